import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { partnerScopeOf, type Principal } from '../auth/principal';
import { BadInputError } from '../platform/errors';
import { retryOnUniqueViolation } from '../platform/db/orm';
import { transact, type UnitOfWork } from '../platform/db/unit-of-work';
import { VersionedCache } from '../platform/db/config-version';
import { preparedFromKnex, runPrepared } from '../platform/db/prepared';
import { Hook } from '../platform/hooks';
import { isUuid } from '../platform/ids';
import { MemberStatus } from '../members';
import { MemberFrozenError, MemberNotFoundError } from '../members';
import { heldTierOf } from '../members/member.rules';
import type { MemberService } from '../members/member.service';
import type { TierView } from '../members/tier.cache';
import type { ProgramService } from '../program/program.service';
import type { SettingsValues } from '../program/program.rules';
import type { EarningRuleService } from './earning-rule.service';
import { LedgerEntryStatus, LedgerEntryType } from './ledger.entity';
import { EarnRateLimitedError, EntryNotFoundError, EntryNotHeldError, IdempotencyConflictError, OrderConflictError, OrderNotFoundError } from './ledger.errors';
import { capWindow, expiryFor, moneyProblem, POINTS_MAX, purchasePoints, reversalTarget, ruleApplies, type EarningRuleLike } from './ledger.rules';
import type { LedgerWriters } from './ledger.writers';
import { EARN_READ_SQL, SPENDABLE_BALANCE_SQL } from './ledger.sql';
import { balanceEvent, type BalanceEventPayload } from './ledger.topics';
import type { EntryRow, LedgerWriter, LockedMember } from './ledger.writer';
import { DAY_MS } from '../platform/time';
import { touchLastActive } from '../members';

/** An earning's statements under the member's lock as named prepared statements (platform/db/prepared.ts, issue 14). */
const EARN_READ = preparedFromKnex('ledger.earn_read', EARN_READ_SQL);
const INSERT_PURCHASE = preparedFromKnex(
  'ledger.insert_purchase',
  'insert into purchase (partner_id, order_id, member_id, amount, category, occurred_at, entry_id, points, points_capped_from, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);

const TEXT_MAX = 500;
const KEY_MAX = 128;
const MAX_ADJUSTMENT = 10_000_000;

export interface EarnResult {
  entry: EntryRow;
  memberId: string;
  points: number;
  status: 'POSTED' | 'HELD_FOR_REVIEW' | 'REJECTED';
  duplicate: boolean;
}

export interface ReverseResult {
  entry: EntryRow;
  memberId: string;
  pointsReversed: number;
  shortfall: number;
}

interface PurchaseRow {
  order_id: string;
  member_id: string;
  amount: string;
  entry_id: string;
  points: number;
  refunded_amount: string;
  points_reversed: number;
  points_forgiven: number;
  points_capped_from: number | null;
}

export interface EarnInput {
  memberId: string;
  orderId: string;
  amount: Decimal;
  category?: string | null;
  occurredAt?: Date | null;
}

export interface ReverseInput {
  orderId: string;
  reason: string;
  amount?: Decimal | null;
  refundId?: string | null;
}

export interface AdjustInput {
  memberId: string;
  delta: number;
  reason: string;
  idempotencyKey: string;
  validDays?: number | null;
}

export const sourceOf = (principal: Principal) => `${principal.role}:${principal.partnerId ?? principal.subject}`;

/**
 * The ledger entry's idempotency key of an order: the bare order id for the program's own
 * orders (as always), length-prefixed for a partner's so no pair of (partner, order) collides.
 */
const orderKey = (scope: string, orderId: string) => (scope === '' ? orderId : `p:${scope.length}:${scope}:${orderId}`);

function requireText(value: string, field: string, max = TEXT_MAX): string {
  const text = value.trim();
  if (text.length === 0 || text.length > max) throw new BadInputError(`${field} must be 1 to ${max} characters`, field);
  return text;
}

const earnStatusOf = (entry: EntryRow): EarnResult['status'] => (entry.status === LedgerEntryStatus.POSTED ? 'POSTED' : entry.status === LedgerEntryStatus.HELD ? 'HELD_FOR_REVIEW' : 'REJECTED');

/**
 * A purchase counted as posted (earned, or approved after review), told inside its own unit of
 * work with the member locked: what other domains do about it (challenge progress, tier upgrades)
 * happens in the same transaction. Listeners are wired at the composition root (src/app.ts).
 */
export interface PurchasePosted {
  uow: UnitOfWork;
  writer: LedgerWriter;
  member: LockedMember;
  purchase: { orderId: string; amount: Decimal };
}

export class LedgerService {
  /** Emitted inside the purchase's transaction; the ledger knows none of its listeners. */
  readonly purchasePosted = new Hook<PurchasePosted>();
  private readonly terms = new VersionedCache<{ settings: SettingsValues; tiers: TierView[]; rules: EarningRuleLike[] }>();

  constructor(
    private readonly deps: {
      clock: Clock;
      timeZone: string;
      writers: LedgerWriters;
      members: MemberService;
      program: ProgramService;
      earningRules: EarningRuleService;
      /**
       * occurredAt window (PURCHASE_MAX_AGE_DAYS, PURCHASE_MAX_FUTURE_SECONDS): no backdating a
       * purchase into an ended promotion; a partner's clock may run a little ahead of ours.
       */
      purchaseWindow: { maxAgeDays: number; maxFutureSeconds: number };
    },
  ) {}

  /** earnPoints: the contract's formula, idempotent on orderId, with the risk rules. */
  async earn(em: EntityManager, principal: Principal, input: EarnInput): Promise<EarnResult> {
    const orderId = requireText(input.orderId, 'orderId', KEY_MAX);
    const problem = moneyProblem(input.amount, 'amount');
    if (problem) throw new BadInputError(problem, 'amount');
    const category = input.category?.trim() || null;
    if (category && category.length > 64) throw new BadInputError('category must be at most 64 characters', 'category');
    const now = this.deps.clock.now();
    const occurredAt = input.occurredAt ?? now;
    const window = this.deps.purchaseWindow;
    if (occurredAt.getTime() > now.getTime() + window.maxFutureSeconds * 1000) {
      throw new BadInputError(`occurredAt may be at most ${window.maxFutureSeconds} seconds in the future`, 'occurredAt');
    }
    if (occurredAt.getTime() < now.getTime() - window.maxAgeDays * DAY_MS) {
      throw new BadInputError(`occurredAt may be at most ${window.maxAgeDays} days in the past`, 'occurredAt');
    }
    if (!isUuid(input.memberId)) throw new MemberNotFoundError(input.memberId);

    const scope = partnerScopeOf(principal);
    const attempt = () =>
      transact(em, async (uow) => {
        const w = this.deps.writers.of(uow);
        const member = await w.lockMember(input.memberId);
        // The earning's terms as of the configuration version the lock just read: no round trip
        // unless an admin changed settings, tiers or rules since the last earning (VersionedCache).
        const { settings, tiers, rules } = await this.terms.get(w.configVersion, () => this.loadTerms(w.tx));
        // One read for the order, the hourly count and the first-order check (EARN_READ_SQL).
        // The hourly limit counts this partner's purchases of this member that earned or wait for
        // review: a partner posting junk (rejected on review) or another partner's traffic cannot
        // lock the member out (issue 13).
        const [read] = await runPrepared<Omit<PurchaseRow, 'order_id'> & { order_id: string | null; recent: number; first_order: boolean }>(w.tx, EARN_READ, [
          member.id,
          scope,
          new Date(now.getTime() - 3_600_000),
          member.id,
          scope,
          orderId,
        ]);
        if (read.order_id != null) {
          const existing = read as PurchaseRow;
          if (existing.member_id !== member.id) throw new OrderConflictError(orderId, 'for another member');
          if (!new Decimal(existing.amount).eq(input.amount)) throw new OrderConflictError(orderId, `with amount ${existing.amount}`);
          const entry = await this.entryById(w, existing.entry_id);
          return { entry, memberId: member.id, points: existing.points, status: earnStatusOf(entry), duplicate: true };
        }
        if (member.status === MemberStatus.FROZEN) throw new MemberFrozenError(member.id);
        const { recent, first_order } = read;
        if (recent >= settings.earnLimitPerHour) throw new EarnRateLimitedError(settings.earnLimitPerHour);

        const tier = heldTierOf(tiers, member.tierLevel);
        const facts = { occurredAt, category, tierLevel: tier.level, segment: member.segment, firstOrder: first_order, timeZone: this.deps.timeZone };
        const points = purchasePoints(
          input.amount,
          settings.pointsPerCurrencyUnit,
          tier.multiplier,
          rules.filter((r) => ruleApplies(r, facts)),
        );
        // Rate × tier × rule multipliers can take a large amount past the integer columns: bad input, not a 500.
        if (Math.max(points, member.balance + points, member.lifetimeEarned + points) > POINTS_MAX) {
          throw new BadInputError(`amount earns ${points} points, more than a balance can hold (${POINTS_MAX})`, 'amount');
        }
        const held = input.amount.gt(settings.reviewThresholdAmount);
        // Saved by the credit's own member update (CREDIT_SQL), not by statements of their own:
        // a posted purchase adds to lifetime spend (a held one on approval), and the member was active.
        if (!held) member.totalSpend = Decimal.max(0, new Decimal(member.totalSpend).plus(input.amount)).toFixed(2);
        member.activeAt = now;
        const fields = {
          points,
          expiresAt: expiryFor(now, settings.validityDays),
          reference: orderId,
          source: sourceOf(principal),
          description: `订单 ${orderId} 消费 ¥${input.amount.toFixed(2)}`,
          idempotencyKey: orderKey(scope, orderId),
        };
        // Purchase caps (issue 17, off by default) cut what a posted purchase earns; a held one is a
        // reviewer's decision and is not capped. The order keeps the points granted, so a refund
        // takes back at most those (reversalTarget is proportional to purchase.points).
        const capped = held
          ? { entry: await w.credit(member, { ...fields, type: LedgerEntryType.PURCHASE, held }), granted: points }
          : await w.cappedPurchase(member, fields, capWindow(now, this.deps.timeZone, settings.purchaseDailyCap, settings.purchaseMonthlyCap));
        const entry = capped.entry;
        const granted = capped.granted;
        await runPrepared(w.tx, INSERT_PURCHASE, [scope, orderId, member.id, input.amount.toFixed(2), category, occurredAt, entry.id, granted, granted < points ? points : null, now]);
        if (held) await touchLastActive(w.tx, member.id, now);
        else {
          // Capped to 0 points: no credit ran, so spend and activity are saved here.
          if (granted === 0) await w.saveMember(member);
          await this.purchasePosted.emit({ uow, writer: w, member, purchase: { orderId, amount: input.amount } });
        }
        return { entry, memberId: member.id, points: granted, status: earnStatusOf(entry), duplicate: false };
      });

    // Two members' transactions raced on one new orderId: the loser re-reads and gets CONFLICT.
    return retryOnUniqueViolation(['purchase_pkey', 'ledger_entry_idempotency_unique'], attempt);
  }

  /** What an earning reads from the program's configuration (cached per version, see earn). */
  private async loadTerms(tx: EntityManager) {
    const [settings, tiers, rules] = await Promise.all([this.deps.program.settings(tx), this.deps.members.tierValues(tx), this.deps.earningRules.activeRules(tx)]);
    return { settings, tiers, rules };
  }

  /** Lifetime spend grows; upgrades are the lifecycle's purchase hook (issue 17), run right after. */
  private async addSpend(w: LedgerWriter, member: LockedMember, amount: Decimal) {
    member.totalSpend = Decimal.max(0, new Decimal(member.totalSpend).plus(amount)).toFixed(2);
    await w.saveMember(member);
  }

  private async entryById(w: LedgerWriter, id: string): Promise<EntryRow> {
    const [entry] = await w.tx.execute<EntryRow[]>('select * from ledger_entry where id = ?', [id]);
    if (!entry) throw new EntryNotFoundError(id);
    return entry;
  }

  /**
   * reverseEarn: a refund takes the order's points back, from its own lot first, then
   * earliest-expiry; what was already spent becomes debt. Never more than the order earned.
   */
  async reverse(em: EntityManager, principal: Principal, input: ReverseInput): Promise<ReverseResult> {
    const orderId = requireText(input.orderId, 'orderId', KEY_MAX);
    const reason = requireText(input.reason, 'reason');
    if (input.amount != null) {
      const problem = moneyProblem(input.amount, 'amount');
      if (problem) throw new BadInputError(problem, 'amount');
    }
    const refundId = input.refundId != null ? requireText(input.refundId, 'refundId', KEY_MAX) : null;
    const refundKey = refundId ? `id:${refundId}` : input.amount != null ? `amount:${input.amount.toFixed(2)}` : 'full';

    // Another partner's order is NOT_FOUND, exactly like one that does not exist.
    const scope = partnerScopeOf(principal);
    const [located] = await em.execute<{ member_id: string }[]>('select member_id from purchase where partner_id = ? and order_id = ?', [scope, orderId]);
    if (!located) throw new OrderNotFoundError(orderId);

    return transact(em, async (uow) => {
      const w = this.deps.writers.of(uow);
      const member = await w.lockMember(located.member_id);
      const [order] = await w.tx.execute<PurchaseRow[]>('select * from purchase where partner_id = ? and order_id = ? for update', [scope, orderId]);
      const [previous] = await w.tx.execute<{ amount: string; entry_id: string; points_reversed: number; shortfall: number }[]>(
        'select amount, entry_id, points_reversed, shortfall from purchase_reversal where partner_id = ? and order_id = ? and refund_key = ?',
        [scope, orderId, refundKey],
      );
      const orderAmount = new Decimal(order.amount);
      const refunded = new Decimal(order.refunded_amount);
      const refundNow = input.amount ?? orderAmount.minus(refunded);
      if (previous) {
        if (!new Decimal(previous.amount).eq(refundNow) && input.amount != null) throw new IdempotencyConflictError(refundId ?? orderId);
        return { entry: await this.entryById(w, previous.entry_id), memberId: member.id, pointsReversed: previous.points_reversed, shortfall: previous.shortfall };
      }
      if (refundNow.lte(0) || refunded.gte(orderAmount)) throw new OrderConflictError(orderId, 'and is fully refunded');
      if (refunded.plus(refundNow).gt(orderAmount)) {
        throw new BadInputError(`amount exceeds what is left to refund on this order (${orderAmount.minus(refunded).toFixed(2)})`, 'amount');
      }

      const earned = await this.entryById(w, order.entry_id);
      let entry = earned;
      let toReverse = 0;
      let forgive = 0;
      let covered = 0;
      if (earned.status === LedgerEntryStatus.POSTED) {
        toReverse = reversalTarget(order.points, orderAmount, refunded.plus(refundNow)) - order.points_reversed;
        const [ownLot] = await w.tx.execute<{ id: string; expired: number }[]>(
          `select l.id, coalesce((select sum(a.amount) from lot_allocation a join ledger_entry e on e.id = a.entry_id
                                  where a.lot_id = l.id and e.type = 'EXPIRY'), 0)::int as expired
           from points_lot l where l.member_id = ? and l.entry_id = ?`,
          // By member first: no index leads with entry_id, and a scan of every lot per refund grows with the program.
          [member.id, earned.id],
        );
        // Points of this order that expired unspent were never used: a refund forgives them rather than making debt.
        forgive = Math.min(toReverse, Math.max(0, (ownLot?.expired ?? 0) - order.points_forgiven));
        const claim = toReverse - forgive;
        if (claim > 0) {
          ({ entry, covered } = await w.debit(member, {
            type: LedgerEntryType.REVERSAL,
            points: claim,
            preferLotId: ownLot?.id,
            partial: true,
            reference: orderId,
            source: sourceOf(principal),
            description: `订单 ${orderId} 退款 ¥${refundNow.toFixed(2)}: ${reason}`,
            idempotencyKey: `${orderKey(scope, orderId)}:${refundKey}`,
          }));
          member.pointsDebt += claim - covered;
        }
        member.lifetimeEarned = Math.max(0, member.lifetimeEarned - toReverse);
        member.totalSpend = Decimal.max(0, new Decimal(member.totalSpend).minus(refundNow)).toFixed(2);
        await w.saveMember(member);
      } else if (order.points_capped_from != null) {
        // A purchase the caps cut to 0 points: nothing to take back, but its spend counted, so the refund lowers it.
        member.totalSpend = Decimal.max(0, new Decimal(member.totalSpend).minus(refundNow)).toFixed(2);
        await w.saveMember(member);
      } else if (earned.status === LedgerEntryStatus.HELD) {
        // A refunded order that was still under review never earned anything: its hold is rejected.
        [entry] = await w.tx.execute<EntryRow[]>(`update ledger_entry set status = 'REJECTED', review_note = ? where id = ? returning *`, [`订单退款: ${reason}`, earned.id]);
      }
      const shortfall = toReverse - forgive - covered;
      await w.tx.execute('update purchase set refunded_amount = ?, points_reversed = points_reversed + ?, points_forgiven = points_forgiven + ? where partner_id = ? and order_id = ?', [
        refunded.plus(refundNow).toFixed(2),
        toReverse,
        forgive,
        scope,
        orderId,
      ]);
      await w.tx.execute('insert into purchase_reversal (partner_id, order_id, refund_key, amount, entry_id, points_reversed, shortfall) values (?, ?, ?, ?, ?, ?, ?)', [
        scope,
        orderId,
        refundKey,
        refundNow.toFixed(2),
        entry.id,
        covered,
        shortfall,
      ]);
      return { entry, memberId: member.id, pointsReversed: covered, shortfall };
    });
  }

  /** adjustPoints: positive creates a lot, negative spends; idempotent on the key. */
  async adjust(em: EntityManager, principal: Principal, input: AdjustInput): Promise<EntryRow> {
    if (!Number.isInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_ADJUSTMENT) {
      throw new BadInputError(`delta must be a non-zero integer of at most ${MAX_ADJUSTMENT}`, 'delta');
    }
    const reason = requireText(input.reason, 'reason');
    const key = requireText(input.idempotencyKey, 'idempotencyKey', KEY_MAX);
    if (input.validDays != null && (!Number.isInteger(input.validDays) || input.validDays < 0 || input.validDays > 3650)) {
      throw new BadInputError('validDays must be 0 (never expires) to 3650', 'validDays');
    }
    if (!isUuid(input.memberId)) throw new MemberNotFoundError(input.memberId);
    const settings = await this.deps.program.settings(em);

    const attempt = () =>
      transact(em, async (uow) => {
        const w = this.deps.writers.of(uow);
        const member = await w.lockMember(input.memberId);
        const [existing] = await w.tx.execute<EntryRow[]>(`select * from ledger_entry where type = 'ADJUSTMENT' and idempotency_key = ?`, [key]);
        if (existing) {
          if (existing.member_id !== member.id || existing.delta !== input.delta) throw new IdempotencyConflictError(key);
          return existing;
        }
        const fields = { reference: key, source: sourceOf(principal), description: `人工调整: ${reason}`, idempotencyKey: key };
        if (input.delta > 0) {
          if (member.balance + input.delta > POINTS_MAX) throw new BadInputError(`delta would take the balance past ${POINTS_MAX}`, 'delta');
          return w.credit(member, { ...fields, type: LedgerEntryType.ADJUSTMENT, points: input.delta, expiresAt: expiryFor(w.now, input.validDays ?? settings.validityDays) });
        }
        return (await w.debit(member, { ...fields, type: LedgerEntryType.ADJUSTMENT, points: -input.delta })).entry;
      });
    return retryOnUniqueViolation(['ledger_entry_idempotency_unique'], attempt);
  }

  /** approveHeldEntry: the held credit is posted now, keeping the validity it was earned with. */
  async approveHeld(em: EntityManager, entryId: string): Promise<EntryRow> {
    const memberId = await this.memberOfEntry(em, entryId);
    return transact(em, async (uow) => {
      const w = this.deps.writers.of(uow);
      const member = await w.lockMember(memberId);
      const held = await this.entryById(w, entryId);
      if (held.status === LedgerEntryStatus.POSTED) return held;
      if (held.status !== LedgerEntryStatus.HELD) throw new EntryNotHeldError(entryId, held.status);
      const validity = held.expires_at ? new Date(held.expires_at).getTime() - new Date(held.created_at).getTime() : null;
      const entry = await w.postHeld(member, held, validity === null ? null : new Date(w.now.getTime() + validity));
      const [order] = await w.tx.execute<PurchaseRow[]>('select * from purchase where entry_id = ?', [entry.id]);
      if (order) {
        await this.addSpend(w, member, new Decimal(order.amount));
        await this.purchasePosted.emit({ uow, writer: w, member, purchase: { orderId: order.order_id, amount: new Decimal(order.amount) } });
      }
      return entry;
    });
  }

  async rejectHeld(em: EntityManager, entryId: string, reasonInput: string): Promise<EntryRow> {
    const reason = requireText(reasonInput, 'reason');
    const memberId = await this.memberOfEntry(em, entryId);
    return transact(em, async (uow) => {
      const w = this.deps.writers.of(uow);
      await w.lockMember(memberId);
      const held = await this.entryById(w, entryId);
      if (held.status === LedgerEntryStatus.REJECTED) return held;
      if (held.status !== LedgerEntryStatus.HELD) throw new EntryNotHeldError(entryId, held.status);
      const [entry] = await w.tx.execute<EntryRow[]>(`update ledger_entry set status = 'REJECTED', review_note = ? where id = ? returning *`, [reason, entryId]);
      return entry;
    });
  }

  private async memberOfEntry(em: EntityManager, entryId: string): Promise<string> {
    if (!/^\d{1,18}$/.test(entryId)) throw new EntryNotFoundError(entryId);
    const [row] = await em.execute<{ member_id: string }[]>('select member_id from ledger_entry where id = ?', [entryId]);
    if (!row) throw new EntryNotFoundError(entryId);
    return row.member_id;
  }

  /**
   * balanceChanged's first event: where the member stands now (spendable balance, latest posted
   * entry, delta 0, so a client summing deltas counts nothing twice); null before any posting.
   */
  async currentBalanceEvent(em: EntityManager, memberId: string): Promise<BalanceEventPayload | null> {
    const now = this.deps.clock.now();
    const [row] = await em.execute<(EntryRow & { spendable: number })[]>(
      `select e.*, ${SPENDABLE_BALANCE_SQL} as spendable from member m
       join lateral (select * from ledger_entry where member_id = m.id and status = 'POSTED' order by id desc limit 1) e on true
       where m.id = ?`,
      [now, memberId],
    );
    if (!row) return null;
    const { spendable, ...entry } = row;
    return { ...balanceEvent(entry), balance: spendable, delta: 0, at: now.toISOString() };
  }
}
