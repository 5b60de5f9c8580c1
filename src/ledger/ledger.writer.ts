import type { EntityManager } from '@mikro-orm/postgresql';
import { MemberStatus } from '../members';
import { MemberNotFoundError } from '../members';
import { InsufficientPointsError } from './ledger.errors';
import { LedgerEntryStatus, LedgerEntryType } from './ledger.entity';
import { CREDIT_SQL, DEBIT_SQL } from './ledger.sql';
import { preparedFromKnex, runPrepared } from '../platform/db/prepared';
import { CONFIG_VERSION_SQL } from '../platform/db/config-version';

/**
 * The money paths' own statements (the member lock, a debit, a credit) as named prepared statements (platform/db/prepared.ts,
 * issue 14): bound values on the transaction's connection, parsed once per connection, no ORM
 * formatting of twenty values per debit.
 */
const LOCK_MEMBER = preparedFromKnex(
  'ledger.lock_member',
  `select id, status, balance, lifetime_earned, points_debt, total_spend, tier_level, segment,
              tier_spend_base::text, tier_grace_until is not null as tier_in_grace,
              exists (select 1 from points_lot l where l.member_id = member.id and l.remaining > 0 and l.expires_at <= ?) as has_due,
              ${CONFIG_VERSION_SQL} as config_version
       from member where id = ? for update`,
);
const DEBIT = preparedFromKnex('ledger.debit', DEBIT_SQL);
const CREDIT = preparedFromKnex('ledger.credit', CREDIT_SQL);
import { DAY_MS } from '../platform/time';

/** A ledger_entry row as SQL returns it. */
export interface EntryRow {
  id: string;
  member_id: string;
  type: LedgerEntryType;
  status: LedgerEntryStatus;
  delta: number;
  balance_after: number;
  reference: string | null;
  source: string;
  description: string;
  expires_at: Date | null;
  created_at: Date;
  posted_at: Date | null;
  idempotency_key: string | null;
  review_note: string | null;
}

/** A member row locked FOR UPDATE for the rest of the transaction; the writer keeps it current. */
export interface LockedMember {
  id: string;
  status: MemberStatus;
  balance: number;
  lifetimeEarned: number;
  pointsDebt: number;
  totalSpend: string;
  /** The tier held (issue 17); earning uses it, upgrades are the lifecycle's purchase hook. */
  tierLevel: number;
  /** RFM segment key, for earning rules limited to segments. */
  segment: string | null;
  /** The tier year's spend base and whether the tier is in grace (the lifecycle's purchase hook reads them; issue 17). */
  tierSpendBase: string;
  tierInGrace: boolean;
  /**
   * The member did something (earned on a purchase): the next statement that saves the member
   * (a credit, saveMember) also sets last_active_at, instead of an UPDATE of its own (issue 14).
   */
  activeAt?: Date;
}

export interface EntryFields {
  reference?: string | null;
  source: string;
  description: string;
  idempotencyKey?: string | null;
}

export interface CreditFields extends EntryFields {
  type: LedgerEntryType.PURCHASE | LedgerEntryType.REWARD | LedgerEntryType.ADJUSTMENT | LedgerEntryType.REFUND;
  points: number;
  expiresAt: Date | null;
  /** Held for review: recorded, not spendable, not in the balance. */
  held?: boolean;
}

export interface DebitFields extends EntryFields {
  type: LedgerEntryType.REDEMPTION | LedgerEntryType.REVERSAL | LedgerEntryType.ADJUSTMENT;
  points: number;
  /** Consume this lot first (a reversal takes from the order's own lot first). */
  preferLotId?: string | null;
  /** Take what there is instead of failing with INSUFFICIENT_POINTS (reversals). */
  partial?: boolean;
}

/** Earning caps (issue 17, seed §4.4) on REWARD or PURCHASE credits of a member, per local day and month; null: none. */
export interface RewardCaps {
  daily: number | null;
  monthly: number | null;
  dayStart: Date;
  monthStart: Date;
}

/** Source of tier upgrade bonuses: deliberate one-off grants, outside the earning caps. */
export const TIER_BONUS_SOURCE = 'system:tier';

/** Points given back to an expired lot come back in a new lot valid this long (README: refunds). */
export const REFUND_GRACE_DAYS = 30;

/** Credits that pay a member's points debt first (contract: "netted against future earnings"). */
const DEBT_PAYING = new Set<LedgerEntryType>([LedgerEntryType.PURCHASE, LedgerEntryType.REWARD, LedgerEntryType.ADJUSTMENT]);
const EARNING = new Set<LedgerEntryType>([LedgerEntryType.PURCHASE, LedgerEntryType.REWARD]);

const json = (value: unknown) => JSON.stringify(value);

/**
 * The expiry job's batch (see `LedgerWriter.expireDueBatch`). Parameters, in order: now, the
 * cursor's expires_at and id, the batch size, then now five times. Exported for the bench's
 * baseline (bench/suites/jobs.mjs), which runs this same statement on a bare pg client.
 */
export const EXPIRE_DUE_BATCH_SQL = `with due as (
     select l.id, l.member_id, l.expires_at from points_lot l
     where l.remaining > 0 and l.expires_at <= ? and (l.expires_at, l.id) > (?, ?)
     order by l.expires_at, l.id limit ?
   ), locked as (
     select m.id from member m where m.id = any(array(select distinct member_id from due)) order by m.id for update skip locked
   ), lots as (
     select l.id, l.member_id, l.remaining from points_lot l
     where l.member_id = any(array(select id from locked)) and l.remaining > 0 and l.expires_at <= ?
     order by l.id for update
   ), expired as (
     update points_lot p set remaining = 0, expired_at = ? where p.id = any(array(select id from lots))
   ), sums as (
     select member_id, sum(remaining)::int as points from lots group by member_id
   ), balances as (
     update member m set balance = m.balance - sums.points, updated_at = ? from sums where m.id = sums.member_id and m.id = any(array(select member_id from sums))
     returning m.id, m.balance
   ), entries as (
     insert into ledger_entry (member_id, type, status, delta, balance_after, source, description, created_at, posted_at)
     select b.id, 'EXPIRY', 'POSTED', -sums.points, b.balance, 'system:expiry', '积分过期: ' || sums.points || ' 积分', ?, ?
     from balances b join sums on sums.member_id = b.id order by b.id
     returning *
   ), allocations as (
     insert into lot_allocation (entry_id, lot_id, amount)
     select e.id, x.id, x.remaining from lots x join entries e on e.member_id = x.member_id order by x.id
   ), batch as (
     select count(*)::int as read, (select count(*)::int from lots) as lots, (array_agg(expires_at order by expires_at desc, id desc))[1] as last_expires_at,
            (array_agg(id order by expires_at desc, id desc))[1] as last_id
     from due
   )
   select batch.read, batch.lots, batch.last_expires_at, batch.last_id, entries.* from batch left join entries on true`;

/**
 * How far behind the run's `now` the expiry watermark stays (see advanceExpiryWatermark): an
 * hour, orders of magnitude above how long a money path's unit of work lasts (each statement is
 * bounded by DATABASE_STATEMENT_TIMEOUT_MS, an idle transaction by twice that) and above the clock
 * skew of instances. Its cost: each run re-reads the lots that expired in the last hour.
 */
export const EXPIRY_WATERMARK_LAG_MS = 3_600_000;

/**
 * Raises the watermark (binds: now, from, cap = now − lag, cap, from): to the earliest lot still due
 * below the cap (a member the run skipped), else to the cap; only if it is still `from`, the value
 * the run started at (compare-and-set: a lowering by the points_lot triggers, or a raise by
 * another instance, since then makes this run's answer stale, and it leaves the row alone).
 */
const ADVANCE_EXPIRY_WATERMARK_SQL = `update expiry_watermark w set expired_before = c.at, updated_at = ?
  from (select coalesce((select min(l.expires_at) from points_lot l where l.remaining > 0 and l.expires_at >= ?::timestamptz and l.expires_at < ?::timestamptz), ?::timestamptz) as at) c
  where w.id = 1 and w.expired_before = ?::timestamptz and c.at > w.expired_before
  returning w.expired_before`;

/**
 * The only code that writes entries, lots, allocations and cached balances. One writer per
 * transaction; every method expects the member to be locked through `lockMember` first, so all
 * money paths take locks in one order: the member row, then its lots by id.
 * Posted entries are collected in `posted`, published after commit by the unit of work that
 * made the writer (LedgerWriters): no use case builds a writer itself.
 */
export class LedgerWriter {
  readonly posted: EntryRow[] = [];
  /**
   * The program's configuration version, as the member lock read it (platform/db/config-version.ts):
   * what this unit of work loads from settings, tiers, rules and challenges is cached under it. Null
   * until a member is locked.
   */
  configVersion: number | null = null;

  constructor(
    readonly tx: EntityManager,
    readonly now: Date,
  ) {}

  private async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.tx.execute<T[]>(sql, params);
  }

  /**
   * Locks the member and expires its due lots, so nothing expired can be spent or counted.
   * The lock also says whether any lot is due, so the expiry statement only runs when one is (a
   * round trip saved on nearly every money path, issue 14). That look at the lots uses the
   * statement's snapshot, which may predate the lock; it is still right because lots only change
   * under their member's lock, and no change made under it makes a lot due (credits and refunds
   * go to lots expiring later; expiry only empties lots): a stale answer can only be a "due" that
   * expireDue then finds already done.
   */
  async lockMember(memberId: string): Promise<LockedMember> {
    const [row] = await runPrepared<{
      id: string;
      status: MemberStatus;
      balance: number;
      lifetime_earned: number;
      points_debt: number;
      total_spend: string;
      tier_level: number;
      segment: string | null;
      tier_spend_base: string;
      tier_in_grace: boolean;
      has_due: boolean;
      config_version: number;
    }>(this.tx, LOCK_MEMBER, [this.now, memberId]);
    if (!row) throw new MemberNotFoundError(memberId);
    this.configVersion = row.config_version;
    const member: LockedMember = {
      id: row.id,
      status: row.status,
      balance: row.balance,
      lifetimeEarned: row.lifetime_earned,
      pointsDebt: row.points_debt,
      totalSpend: row.total_spend,
      tierLevel: row.tier_level,
      segment: row.segment,
      tierSpendBase: row.tier_spend_base,
      tierInGrace: row.tier_in_grace,
    };
    if (row.has_due) {
      const expired = await this.expireDue([member.id]);
      member.balance -= expired.get(member.id) ?? 0;
    }
    return member;
  }

  async saveMember(member: LockedMember): Promise<void> {
    await this.tx.execute(
      'update member set balance = ?, lifetime_earned = ?, points_debt = ?, total_spend = ?, updated_at = ?, last_active_at = coalesce(?, last_active_at) where id = ?',
      this.savedMember(member),
    );
  }

  /**
   * What saving a member binds, in this order, wherever a statement saves it (saveMember, the
   * credit's `saved` update in CREDIT_SQL): one list, so a column added to the save reaches both.
   */
  private savedMember(member: LockedMember): unknown[] {
    return [member.balance, member.lifetimeEarned, member.pointsDebt, member.totalSpend, this.now, member.activeAt ?? null, member.id];
  }

  private async insertEntry(
    member: LockedMember,
    fields: EntryFields & { type: LedgerEntryType; status: LedgerEntryStatus; delta: number; balanceAfter: number; expiresAt: Date | null },
  ): Promise<EntryRow> {
    const [entry] = await this.rows<EntryRow>(
      `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, posted_at, idempotency_key)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
      [
        member.id,
        fields.type,
        fields.status,
        fields.delta,
        fields.balanceAfter,
        fields.reference ?? null,
        fields.source,
        fields.description,
        fields.expiresAt,
        this.now,
        fields.status === LedgerEntryStatus.POSTED ? this.now : null,
        fields.idempotencyKey ?? null,
      ],
    );
    if (entry.status === LedgerEntryStatus.POSTED) this.posted.push(entry);
    return entry;
  }

  private async insertLot(member: LockedMember, entryId: string, points: number, expiresAt: Date | null): Promise<string> {
    const [lot] = await this.rows<{ id: string }>('insert into points_lot (member_id, entry_id, amount, remaining, expires_at) values (?, ?, ?, ?, ?) returning id', [
      member.id,
      entryId,
      points,
      points,
      expiresAt,
    ]);
    return lot.id;
  }

  /** A credit: a new lot (unless held), the balance up, and any points debt paid from it first. */
  async credit(member: LockedMember, fields: CreditFields): Promise<EntryRow> {
    if (!Number.isInteger(fields.points) || fields.points <= 0) throw new Error(`credit of ${fields.points} points`);
    if (fields.held) {
      return this.insertEntry(member, { ...fields, status: LedgerEntryStatus.HELD, delta: fields.points, balanceAfter: member.balance });
    }
    member.balance += fields.points;
    if (EARNING.has(fields.type)) member.lifetimeEarned += fields.points;
    // Entry, lot and cached balance in one statement (CREDIT_SQL); the debt, if any, is paid after.
    const [row] = await runPrepared<EntryRow & { lot_id: string }>(this.tx, CREDIT, [
      member.id,
      fields.type,
      fields.points,
      member.balance,
      fields.reference ?? null,
      fields.source,
      fields.description,
      fields.expiresAt,
      this.now,
      this.now,
      fields.idempotencyKey ?? null,
      ...this.savedMember(member),
    ]);
    const { lot_id: lotId, ...entry } = row;
    this.posted.push(entry);
    await this.repayDebt(member, entry, fields.points, lotId);
    return entry;
  }

  /**
   * A REWARD under the earning caps: what is left of the member's daily and monthly room is
   * credited; a cut is recorded in reward_cap_hit with its reason, and a reward cut to 0 is still
   * an entry (REJECTED, not in the balance, the reason in review_note), never silently dropped.
   * The member is locked, so concurrent rewards of one member see each other's credits.
   */
  async cappedReward(member: LockedMember, fields: Omit<CreditFields, 'type' | 'held'>, caps: RewardCaps): Promise<{ entry: EntryRow; granted: number }> {
    return this.cappedCredit(member, { ...fields, type: LedgerEntryType.REWARD }, caps);
  }

  /**
   * A PURCHASE under the purchase caps (program settings purchaseDailyCap / purchaseMonthlyCap),
   * recorded exactly like a capped reward; the room counts this member's posted PURCHASE credits.
   */
  async cappedPurchase(member: LockedMember, fields: Omit<CreditFields, 'type' | 'held'>, caps: RewardCaps): Promise<{ entry: EntryRow; granted: number }> {
    return this.cappedCredit(member, { ...fields, type: LedgerEntryType.PURCHASE }, caps);
  }

  private async cappedCredit(
    member: LockedMember,
    fields: Omit<CreditFields, 'type' | 'held'> & { type: LedgerEntryType.REWARD | LedgerEntryType.PURCHASE },
    caps: RewardCaps,
  ): Promise<{ entry: EntryRow; granted: number }> {
    const kind = fields.type === LedgerEntryType.REWARD ? '奖励' : '消费';
    let granted = fields.points;
    let reason: string | null = null;
    if (caps.daily != null || caps.monthly != null) {
      const since = new Date(Math.min(caps.dayStart.getTime(), caps.monthStart.getTime()));
      const [used] = await this.rows<{ day: number; month: number }>(
        `select coalesce(sum(delta) filter (where created_at >= ?), 0)::int as day, coalesce(sum(delta) filter (where created_at >= ?), 0)::int as month
         from ledger_entry where member_id = ? and type = ? and status = 'POSTED' and source <> ? and created_at >= ?`,
        [caps.dayStart, caps.monthStart, member.id, fields.type, TIER_BONUS_SOURCE, since],
      );
      if (caps.daily != null && caps.daily - used.day < granted) {
        granted = Math.max(0, caps.daily - used.day);
        reason = `每日${kind}积分上限 ${caps.daily}`;
      }
      if (caps.monthly != null && caps.monthly - used.month < granted) {
        granted = Math.max(0, caps.monthly - used.month);
        reason = `每月${kind}积分上限 ${caps.monthly}`;
      }
    }
    if (reason === null) return { entry: await this.credit(member, fields), granted };
    await this.tx.execute('insert into reward_cap_hit (member_id, type, source, reference, requested, granted, reason, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)', [
      member.id,
      fields.type,
      fields.source,
      fields.reference ?? null,
      fields.points,
      granted,
      reason,
      this.now,
    ]);
    if (granted > 0) {
      return { entry: await this.credit(member, { ...fields, points: granted, description: `${fields.description} (已达${reason}, 原${fields.points}积分)` }), granted };
    }
    const [entry] = await this.rows<EntryRow>(
      `insert into ledger_entry (member_id, type, status, delta, balance_after, reference, source, description, expires_at, created_at, idempotency_key, review_note)
       values (?, ?, 'REJECTED', ?, ?, ?, ?, ?, null, ?, ?, ?) returning *`,
      [
        member.id,
        fields.type,
        fields.points,
        member.balance,
        fields.reference ?? null,
        fields.source,
        `${fields.description} (已达${reason}, 未发放)`,
        this.now,
        fields.idempotencyKey ?? null,
        reason,
      ],
    );
    return { entry, granted: 0 };
  }

  /** Posts a HELD entry that a reviewer approved: from now on it is an ordinary credit. */
  async postHeld(member: LockedMember, held: EntryRow, expiresAt: Date | null): Promise<EntryRow> {
    member.balance += held.delta;
    const [entry] = await this.rows<EntryRow>(`update ledger_entry set status = 'POSTED', balance_after = ?, expires_at = ?, posted_at = ? where id = ? and status = 'HELD' returning *`, [
      member.balance,
      expiresAt,
      this.now,
      held.id,
    ]);
    this.posted.push(entry);
    await this.afterCredit(member, entry, held.delta, expiresAt);
    return entry;
  }

  private async afterCredit(member: LockedMember, entry: EntryRow, points: number, expiresAt: Date | null) {
    const lotId = await this.insertLot(member, entry.id, points, expiresAt);
    if (EARNING.has(entry.type)) member.lifetimeEarned += points;
    await this.saveMember(member);
    await this.repayDebt(member, entry, points, lotId);
  }

  /** A debt-paying credit pays the member's points debt first, from its own lot (contract: "netted against future earnings"). */
  private async repayDebt(member: LockedMember, entry: EntryRow, points: number, lotId: string) {
    if (member.pointsDebt > 0 && DEBT_PAYING.has(entry.type)) {
      const repay = Math.min(member.pointsDebt, points);
      await this.debit(member, {
        type: LedgerEntryType.REVERSAL,
        points: repay,
        preferLotId: lotId,
        reference: entry.reference,
        source: 'system:debt',
        description: `抵扣此前退款欠下的 ${repay} 积分`,
      });
      member.pointsDebt -= repay;
      await this.saveMember(member);
    }
  }

  /**
   * A debit: lots consumed earliest-expiry first (never-expiring last), the balance down. One
   * statement (DEBIT_SQL): lots locked by id after the member, the plan made in SQL; a debit the
   * lots do not cover writes nothing and fails with INSUFFICIENT_POINTS (unless partial).
   */
  async debit(member: LockedMember, fields: DebitFields): Promise<{ entry: EntryRow; covered: number }> {
    if (!Number.isInteger(fields.points) || fields.points < 0) throw new Error(`debit of ${fields.points} points`);
    const [row] = await runPrepared<EntryRow & { entry_id: string | null; covered: number }>(this.tx, DEBIT, [
      member.id,
      this.now,
      fields.preferLotId ?? null,
      fields.points,
      fields.points,
      fields.points,
      member.id,
      fields.type,
      member.balance,
      fields.reference ?? null,
      fields.source,
      fields.description,
      this.now,
      this.now,
      fields.idempotencyKey ?? null,
      fields.points,
      fields.partial ?? false,
      member.lifetimeEarned,
      member.pointsDebt,
      member.totalSpend,
      this.now,
    ]);
    if (row.entry_id == null) throw new InsufficientPointsError(fields.points, member.balance);
    const { entry_id: _, covered, ...entry } = row;
    member.balance -= covered;
    this.posted.push(entry);
    return { entry, covered };
  }

  /**
   * Gives a debit's points back to the lots it took them from. A lot that has expired since
   * cannot take them back: those points return once, in a new lot valid for the shorter of
   * REFUND_GRACE_DAYS and the lapsed lot's own validity, so a cancellation never silently loses
   * points nor hands out a fresh full validity. Points of a lapsed lot that was itself such a
   * refund lot are not revived again: a redeem-and-cancel loop cannot keep points alive forever.
   * Returns null when nothing is left to give back.
   */
  async refund(member: LockedMember, debitEntryId: string, fields: EntryFields): Promise<EntryRow | null> {
    const rows = await this.rows<{ lot_id: string; amount: number; expires_at: Date | string | null; expired_at: Date | string | null; origin_type: LedgerEntryType; origin_at: Date | string }>(
      `select a.lot_id, sum(a.amount)::int as amount, l.expires_at, l.expired_at, e.type as origin_type, coalesce(e.posted_at, e.created_at) as origin_at
       from lot_allocation a join points_lot l on l.id = a.lot_id join ledger_entry e on e.id = l.entry_id
       where a.entry_id = ? group by a.lot_id, l.expires_at, l.expired_at, e.type, e.posted_at, e.created_at having sum(a.amount) > 0 order by a.lot_id`,
      [debitEntryId],
    );
    // Raw rows carry timestamptz as text: compared with a Date as is, every lot would look lapsed.
    const taken = rows.map((t) => ({ ...t, expires_at: t.expires_at == null ? null : new Date(t.expires_at), origin_at: new Date(t.origin_at) }));
    const live = taken.filter((t) => !t.expired_at && (!t.expires_at || t.expires_at > this.now));
    const lapsed = taken.filter((t) => !live.includes(t) && t.origin_type !== LedgerEntryType.REFUND);
    const liveTotal = live.reduce((sum, t) => sum + t.amount, 0);
    const lapsedPoints = lapsed.reduce((sum, t) => sum + t.amount, 0);
    if (liveTotal + lapsedPoints <= 0) return null;
    const graceMs = Math.min(REFUND_GRACE_DAYS * DAY_MS, ...lapsed.map((t) => t.expires_at!.getTime() - t.origin_at.getTime()));
    const graceExpiry = new Date(this.now.getTime() + Math.max(graceMs, 0));
    const expiries = [...live.map((t) => t.expires_at), ...(lapsedPoints > 0 ? [graceExpiry] : [])].filter((d): d is Date => d !== null);
    const earliest = expiries.length ? new Date(Math.min(...expiries.map((d) => d.getTime()))) : null;

    const total = liveTotal + lapsedPoints;
    member.balance += total;
    const entry = await this.insertEntry(member, { ...fields, type: LedgerEntryType.REFUND, status: LedgerEntryStatus.POSTED, delta: total, balanceAfter: member.balance, expiresAt: earliest });
    if (live.length) {
      const back = json(live.map((t) => ({ lot_id: t.lot_id, amount: t.amount })));
      await this.tx.execute(`update points_lot p set remaining = p.remaining + a.amount from jsonb_to_recordset(?::jsonb) as a(lot_id bigint, amount int) where p.id = a.lot_id`, [back]);
      await this.tx.execute(`insert into lot_allocation (entry_id, lot_id, amount) select ?, a.lot_id, -a.amount from jsonb_to_recordset(?::jsonb) as a(lot_id bigint, amount int)`, [entry.id, back]);
    }
    if (lapsedPoints > 0) await this.insertLot(member, entry.id, lapsedPoints, graceExpiry);
    await this.saveMember(member);
    return entry;
  }

  /**
   * One batch of the expiry job, set-based in one statement (one round trip however many lots):
   * the next `limit` due lots in (expires_at, id) order after `after`; their members locked in id
   * order with SKIP LOCKED (a member busy on a money path is left to the next run, or to that
   * path, which expires due lots first); every due lot of the locked members locked by id and
   * expired (not only those in the batch, so a member gets one EXPIRY entry per run); balances
   * lowered; one EXPIRY entry per member and one allocation per lot. The rule "member, then its
   * lots by id" holds: each lot is locked after its member, inside the same statement.
   *
   * Exactly once under concurrent runners: lots are taken under their member's lock, and a lot
   * expired by a runner that committed first fails the re-check of `remaining > 0` that
   * PostgreSQL applies to a row it locks after a concurrent update (READ COMMITTED).
   * Every join to a batch-sized set goes through `= any(array(...))`: the planner cannot count
   * a CTE's rows and, guessing 200, hashes the whole table (points_lot, member) per batch.
   * The lots' values come from their locked rows (`lots`): the update itself returns new values.
   * Returns how many due lots the batch read, the last one (the next batch's cursor) and the
   * points expired per member; the entries go to `posted`, for events after commit.
   */
  async expireDueBatch(after: { expiresAt: Date; id: string }, limit: number): Promise<{ read: number; lots: number; last: { expiresAt: Date; id: string } | null; expired: Map<string, number> }> {
    const rows = await this.rows<EntryRow & { read: number; lots: number; last_expires_at: Date | string | null; last_id: string | null }>(EXPIRE_DUE_BATCH_SQL, [
      this.now,
      after.expiresAt,
      after.id,
      limit,
      this.now,
      this.now,
      this.now,
      this.now,
      this.now,
    ]);
    const expired = new Map<string, number>();
    const [head] = rows;
    const last = head.last_id === null ? null : { expiresAt: new Date(head.last_expires_at!), id: head.last_id };
    for (const { read: _read, lots: _lots, last_expires_at: _at, last_id: _id, ...entry } of rows) {
      if (entry.id === null) continue;
      this.posted.push(entry);
      expired.set(entry.member_id, -entry.delta);
    }
    return { read: head.read, lots: head.lots, last, expired };
  }

  /**
   * The expiry watermark: every lot with expires_at before it has remaining = 0, so the job's
   * walk starts there. `raw` is PostgreSQL's own text (microseconds), for the compare-and-set of
   * advanceExpiryWatermark; `at` may be up to a millisecond earlier, a safe place to start.
   */
  async expiryWatermark(): Promise<{ at: Date; raw: string }> {
    // As text, whatever the driver does with timestamptz: a Date would drop the microseconds, and the compare-and-set would never match.
    const [{ raw }] = await this.rows<{ raw: string }>('select expired_before::text as raw from expiry_watermark where id = 1');
    return { at: new Date(raw), raw };
  }

  /**
   * Raises the expiry watermark after a complete run of the job from `from` (the `raw` it read
   * before walking) at `this.now`: to the earliest lot still due that the run left (a member
   * another transaction held: SKIP LOCKED), else to now − EXPIRY_WATERMARK_LAG_MS. Returns the new
   * value, or null when it stays (nothing to gain, or the row changed since `from`).
   *
   * Why the invariant "every lot with expires_at < W has remaining = 0" holds:
   * - Raising. The run expired every due lot of every member it locked, and the new W is at most
   *   the earliest lot still due (read after the run, under this statement's snapshot), so no lot
   *   this statement can see is passed. The compare-and-set means W was not lowered meanwhile.
   * - Writers that give a lot points follow one rule: the lot's expiry is at or after the
   *   writer's own `now` (or null). Credits and adjustments (CREDIT_SQL: expiryFor(now, days > 0)
   *   or null), approved held credits (postHeld: now + validity), refunds (refund: points go back
   *   only to lots with expires_at > now; lapsed points come in a new lot at now + grace, grace
   *   ≥ 0). A writer's `now` is read when its unit of work starts, and W stays an hour behind the
   *   run's `now`: a writer whose transaction began before the run and commits after this
   *   statement's snapshot (so the statement cannot see its lot) still writes at or above W,
   *   unless it lasted over an hour or its clock is an hour behind the job's.
   * - Writes that break the rule (an import or admin SQL with past expiries; tests or an operator
   *   moving the clock backwards): the points_lot triggers (Migration20261130200000LotDueIndex)
   *   lower W to the lot's expiry in the writer's own transaction, and the compare-and-set keeps
   *   a run that started before it from raising W back over it. Left open: such a write whose
   *   trigger ran while W was still below its lot and which commits after this statement's
   *   snapshot, with an expiry between the old W and now − lag (an import racing a run's last
   *   statement). Its member's next money path still expires it (lockMember looks at the
   *   member's lots, not at W) and reads already subtract it (SPENDABLE_BALANCE_SQL); for the job
   *   to post it, lower the row after such an import. The same after a bulk load with
   *   session_replication_role = replica, which fires no trigger at all.
   * - Expiry (the job, lockMember's expireDue) and debits only lower `remaining`: never a problem.
   */
  async advanceExpiryWatermark(from: string): Promise<Date | null> {
    const cap = new Date(this.now.getTime() - EXPIRY_WATERMARK_LAG_MS);
    const [row] = await this.rows<{ expired_before: string | Date }>(ADVANCE_EXPIRY_WATERMARK_SQL, [this.now, from, cap, cap, from]);
    return row ? new Date(row.expired_before) : null;
  }

  /**
   * Expires every due lot of the given (already locked) members: remaining → 0, one EXPIRY
   * entry per member with its allocations, balances lowered. Set-based, for the job's batches.
   * Returns the points expired per member.
   */
  async expireDue(memberIds: string[]): Promise<Map<string, number>> {
    const expired = new Map<string, number>();
    if (memberIds.length === 0) return expired;
    const lots = await this.rows<{ id: string; member_id: string; remaining: number }>(
      `with due as (
         select id, member_id, remaining from points_lot
         where member_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and remaining > 0 and expires_at <= ?
         order by id for update
       )
       update points_lot p set remaining = 0, expired_at = ? from due where p.id = due.id
       returning due.id, due.member_id, due.remaining`,
      [json(memberIds), this.now, this.now],
    );
    if (lots.length === 0) return expired;
    for (const lot of lots) expired.set(lot.member_id, (expired.get(lot.member_id) ?? 0) + lot.remaining);
    const sums = json([...expired.entries()].map(([member_id, points]) => ({ member_id, points })));
    const entries = await this.rows<EntryRow>(
      `with sums as (select * from jsonb_to_recordset(?::jsonb) as s(member_id uuid, points int)),
       m as (update member set balance = member.balance - sums.points, updated_at = ? from sums where member.id = sums.member_id returning member.id, member.balance)
       insert into ledger_entry (member_id, type, status, delta, balance_after, source, description, created_at, posted_at)
       select m.id, 'EXPIRY', 'POSTED', -sums.points, m.balance, 'system:expiry', '积分过期: ' || sums.points || ' 积分', ?, ?
       from m join sums on sums.member_id = m.id
       returning *`,
      [sums, this.now, this.now, this.now],
    );
    const entryOf = new Map(entries.map((e) => [e.member_id, e.id]));
    await this.tx.execute(
      `insert into lot_allocation (entry_id, lot_id, amount) select a.entry_id, a.lot_id, a.amount from jsonb_to_recordset(?::jsonb) as a(entry_id bigint, lot_id bigint, amount int)`,
      [json(lots.map((l) => ({ entry_id: entryOf.get(l.member_id), lot_id: l.id, amount: l.remaining })))],
    );
    this.posted.push(...entries);
    return expired;
  }
}
