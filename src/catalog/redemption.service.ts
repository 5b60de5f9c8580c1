import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError, ConflictError, DomainError, ForbiddenError, NotFoundError } from '../platform/errors';
import { decodeTimeIdCursor, pageSize } from '../platform/graphql/connection';
import { isUuid } from '../platform/ids';
import { Role, type Principal } from '../auth/principal';
import { MemberStatus } from '../members';
import { MemberFrozenError } from '../members';
import { LedgerEntryType } from '../ledger';
import { SPENDABLE_BALANCE_SQL } from '../ledger';
import { InsufficientPointsError } from '../ledger/ledger.errors';
import type { LedgerWriter, LedgerWriters, LockedMember } from '../ledger';
import { POINTS_MAX } from '../ledger/ledger.rules';
import { uniqueViolation } from '../platform/db/orm';
import { daysUntil, expirySummary } from '../ledger/ledger.rules';
import type { NotificationService } from '../notifications/notification.service';
import { NotificationKind } from '../notifications';
import { CatalogItem, Coupon, CouponStatus, ItemType, MemberVip, Redemption, RedemptionStatus } from './catalog.entity';
import {
  ItemNotFoundError,
  ItemUnavailableError,
  LimitExceededError,
  OutOfStockError,
  PaymentConflictError,
  RedeemRateLimitedError,
  RedemptionNotFoundError,
  RedemptionStateError,
} from './catalog.errors';
import { expiryWarningText } from '../notifications/notification.texts';
import { groupBy } from '../platform/graphql/batch-loader';
import { isAvailable, newCouponCode, QUICK_MAX_SHARE, QUICK_MIN_SHARE, QUICK_TARGET_SHARE, redeemFingerprint } from './catalog.rules';
import { transact } from '../platform/db/unit-of-work';
import { Hook } from '../platform/hooks';
import type { RedemptionGate } from './flash-sale.gate';
import { DAY_MS } from '../platform/time';
import { REDEEM_STATEMENTS, type RedeemReadRow } from './redemption.sql';
import { runPrepared } from '../platform/db/prepared';

const KEY_MAX = 128;

/** What redeeming (and fulfilling) needs of an item: a CatalogItem, or a row of REDEEM_READ_SQL. */
type RedeemedItem = Pick<CatalogItem, 'id' | 'name' | 'type' | 'pointsPrice' | 'cashPrice' | 'stock' | 'perMemberLimit' | 'availableFrom' | 'availableUntil' | 'active' | 'config'>;
/** Quick options warn about points expiring within this many days. */
const QUICK_WARNING_DAYS = 7;

export interface RedeemInputFields {
  itemId: string;
  quantity?: number | null;
  idempotencyKey: string;
  shippingAddress?: Record<string, unknown> | null;
}

export interface RedeemResult {
  redemption: Redemption;
  memberId: string;
  remainingPoints: number;
  duplicate: boolean;
}

/** One redemption attempt, reported after its transaction committed or rolled back (never inside it). */
export interface RedemptionAttempt {
  /** The item's type in lower case; `unknown` when the attempt failed before the item was read. */
  itemType: string;
  /** `ok`, `duplicate` (an idempotent replay) or the refusal's error code in lower case. */
  outcome: string;
  /** Points spent: 0 unless `ok`. */
  points: number;
  seconds: number;
}
export type RedemptionListener = (attempt: RedemptionAttempt) => void;

export interface ConfirmPaymentFields {
  paymentReference: string;
  amount: Decimal;
}

/** Why a hold was released, in the cancel reason and the member's notification. */
export const PAYMENT_TIMEOUT_REASON = 'payment timeout';

/** A redemption just written, told inside its unit of work (the member and its lots are locked). */
export interface RedemptionRecorded {
  tx: EntityManager;
  redemption: Redemption;
}

/**
 * Redeeming, paying, shipping, cancelling and using coupons.
 *
 * Lock order (every path that changes a redemption takes its locks in this order, skipping the
 * steps it does not need and never going back to an earlier one, so two paths never deadlock):
 *   1. the member row (FOR UPDATE, through the ledger writer): redeem, confirm, cancel, timeout
 *   2. the redemption row (FOR UPDATE): confirm, cancel, timeout, ship, useCoupon
 *   3. its coupons, by id (FOR UPDATE): cancel, useCoupon
 *   4. the member's lots, by id (the ledger writer's debit and refund)
 *   5. the catalog item's stock: one conditional UPDATE, last, so a hot item is held briefly
 * After taking its locks each path re-reads the status and decides on what it read there: a
 * shipped redemption or a used coupon is never refunded, and of a cancel and a confirm racing
 * exactly one wins.
 */
export class RedemptionService {
  /**
   * What other domains add to a redemption, wired at the composition root (this domain knows
   * none of them): `recorded` runs inside the redemption's transaction, just before the stock
   * update; `soldOut` once a redemption that took an item's last unit has committed;
   * `unitsReturned` once a cancel or a released hold gave an item's stock back (committed).
   */
  readonly recorded = new Hook<RedemptionRecorded>();
  readonly soldOut = new Hook<{ itemId: string }>();
  readonly unitsReturned = new Hook<{ itemId: string }>();
  /** Told about every redeem attempt once it is over (metrics); wired by the composition root. */
  readonly attempts: RedemptionListener[] = [];

  constructor(
    private readonly deps: {
      clock: Clock;
      writers: LedgerWriters;
      notifications: NotificationService;
      /** PENDING_PAYMENT lasts this long (PAYMENT_WINDOW_SECONDS). */
      paymentWindowSeconds: number;
      /** Flash sales: admits or refuses a hot item's redemption before any transaction (flash-sale.gate.ts). */
      gate?: RedemptionGate;
    },
  ) {}

  /**
   * redeem: one transaction that locks the member, checks everything, takes stock with a
   * conditional UPDATE, spends points earliest-expiry first and records the redemption with
   * its fulfilment. Idempotent per member on idempotencyKey.
   */
  async redeem(em: EntityManager, memberId: string, input: RedeemInputFields): Promise<RedeemResult> {
    const started = performance.now();
    const seen: { itemType: ItemType | null } = { itemType: null };
    const report = (outcome: string, points: number) => {
      const attempt = { itemType: seen.itemType?.toLowerCase() ?? 'unknown', outcome, points, seconds: (performance.now() - started) / 1000 };
      for (const listener of this.attempts) listener(attempt);
    };
    try {
      const once = () => this.redeemOnce(em, memberId, input, seen);
      const result = await (this.deps.gate ? this.deps.gate.through(memberId, input, once) : once());
      report(result.duplicate ? 'duplicate' : 'ok', result.duplicate ? 0 : result.redemption.pointsSpent);
      return result;
    } catch (error) {
      const code = error instanceof DomainError ? error.code.toLowerCase() : 'error';
      report(code, 0);
      throw error;
    }
  }

  private async redeemOnce(em: EntityManager, memberId: string, input: RedeemInputFields, seen: { itemType: ItemType | null }): Promise<RedeemResult> {
    const quantity = input.quantity ?? 1;
    if (!Number.isInteger(quantity) || quantity < 1) throw new BadInputError('quantity must be at least 1', 'quantity');
    const key = input.idempotencyKey.trim();
    if (!key || key.length > KEY_MAX) throw new BadInputError(`idempotencyKey must be 1 to ${KEY_MAX} characters`, 'idempotencyKey');
    if (!isUuid(input.itemId)) throw new ItemNotFoundError(input.itemId);
    const fingerprint = redeemFingerprint(input.itemId, quantity, input.shippingAddress);
    return transact(em, async (uow): Promise<RedeemResult> => {
      const w = this.deps.writers.of(uow);
      const member = await w.lockMember(memberId);
      // One read for the key, the item, the member's counts and the program's limits (REDEEM_READ_SQL); the checks below
      // keep their order, so every refusal is the one it always was.
      const [read] = await runPrepared<RedeemReadRow>(w.tx, REDEEM_STATEMENTS.read, [input.itemId, input.itemId, new Date(w.now.getTime() - 30 * 60_000), memberId, memberId, key]);
      if (read.previous_id) {
        if (read.previous_hash !== fingerprint) throw new ConflictError('This idempotencyKey was already used for another redemption', { idempotencyKey: key });
        const previous = await w.tx.findOneOrFail(Redemption, { id: read.previous_id });
        return { redemption: previous, memberId, remainingPoints: member.balance, duplicate: true };
      }
      if (member.status === MemberStatus.FROZEN) throw new MemberFrozenError(memberId);
      if (!read.id) throw new ItemNotFoundError(input.itemId);
      const item: RedeemedItem = {
        id: read.id,
        name: read.name,
        type: read.type,
        pointsPrice: read.points_price,
        cashPrice: read.cash_price,
        stock: read.stock,
        perMemberLimit: read.per_member_limit,
        // Raw rows may carry timestamptz as text: compared with a Date as is, the window would be wrong.
        availableFrom: read.available_from == null ? null : new Date(read.available_from),
        availableUntil: read.available_until == null ? null : new Date(read.available_until),
        active: read.active,
        config: read.config,
      };
      seen.itemType = item.type;
      if (!isAvailable(item, w.now)) throw new ItemUnavailableError(item.id);
      const { max_quantity_per_redemption: maxQuantity, redeem_limit_per_30min: rateLimit } = read;
      if (quantity > maxQuantity) {
        throw new LimitExceededError(`At most ${maxQuantity} units per redemption`, maxQuantity);
      }
      // The rate limit counts redemptions that happened or are under way: a refused attempt leaves no
      // row (its transaction rolls back) and a cancelled one gave everything back, so neither can be
      // used to lock a member out of redeeming.
      const { used, recent } = read;
      if (item.perMemberLimit != null && used + quantity > item.perMemberLimit) {
        throw new LimitExceededError(`At most ${item.perMemberLimit} per member (${used} already redeemed)`, item.perMemberLimit);
      }
      if (recent >= rateLimit) throw new RedeemRateLimitedError(rateLimit);
      if (item.type === ItemType.PHYSICAL && !hasAddress(input.shippingAddress)) {
        throw new BadInputError('A physical item needs a shippingAddress', 'shippingAddress');
      }
      const cost = item.pointsPrice * quantity;
      if (cost > POINTS_MAX) throw new BadInputError(`quantity × pointsPrice exceeds ${POINTS_MAX} points`, 'quantity');
      if (member.balance < cost) throw new InsufficientPointsError(cost, member.balance);
      // A sold-out item fails before any work; the conditional UPDATE at the end is the guarantee.
      if (item.stock < quantity) throw new OutOfStockError(item.id, item.stock);

      const redemptionId = randomUUID();
      const { entry } = await w.debit(member, {
        type: LedgerEntryType.REDEMPTION,
        points: cost,
        reference: redemptionId,
        source: `member:${memberId}`,
        description: `兑换 ${item.name} ×${quantity}`,
      });
      const cashDue = item.cashPrice == null ? null : new Decimal(item.cashPrice).times(quantity);
      // Points + cash: the points and the stock are held, nothing is delivered until the cash is paid.
      const awaitsPayment = cashDue != null && cashDue.gt(0);
      // Written with one statement (INSERT_REDEMPTION_SQL), not through the unit of work: every
      // value is known here, so nothing is read back, and the identity map stays empty.
      const redemption = Object.assign(new Redemption(), {
        id: redemptionId,
        memberId,
        itemId: item.id,
        quantity,
        pointsSpent: cost,
        cashDue: cashDue == null ? null : cashDue.toFixed(2),
        status: awaitsPayment ? RedemptionStatus.PENDING_PAYMENT : deliveredStatus(item),
        paymentDueBy: awaitsPayment ? new Date(w.now.getTime() + this.deps.paymentWindowSeconds * 1000) : null,
        entryId: entry.id,
        idempotencyKey: key,
        requestHash: fingerprint,
        shippingAddress: input.shippingAddress ?? null,
        createdAt: w.now,
      });
      // Fulfilment first: a VIP redemption records its days in its own row.
      if (!awaitsPayment) await this.fulfil(w.tx, redemption, item, w.now);
      await runPrepared(w.tx, REDEEM_STATEMENTS.insert, [
        w.now,
        memberId,
        redemption.id,
        memberId,
        item.id,
        quantity,
        cost,
        redemption.cashDue,
        redemption.status,
        redemption.paymentDueBy,
        entry.id,
        key,
        fingerprint,
        redemption.shippingAddress == null ? null : JSON.stringify(redemption.shippingAddress),
        redemption.vipDays,
        w.now,
      ]);
      // Coupons and VIP rows (fulfil) go through the unit of work, after the redemption they belong to.
      if (item.type === ItemType.COUPON || item.type === ItemType.VIP) await w.tx.flush();
      await this.deps.notifications.record(w.tx, w.now, [
        awaitsPayment
          ? {
              memberId,
              kind: NotificationKind.REDEMPTION,
              title: '待支付',
              body: `已为您保留「${item.name}」×${quantity}(${cost}积分),请在${Math.ceil(this.deps.paymentWindowSeconds / 60)}分钟内支付 ¥${redemption.cashDue},逾期自动取消并退回积分。`,
              data: { redemptionId, itemId: item.id, quantity, points: cost, cashDue: redemption.cashDue, paymentDueBy: redemption.paymentDueBy!.toISOString() },
            }
          : deliveredNotice(redemption, item),
      ]);
      await this.recorded.emit({ tx: w.tx, redemption });
      // Stock last: the item's row is locked only from here to commit, so a flash sale's hot
      // row is held for one statement, not for the whole redemption.
      const [stock] = await runPrepared<{ stock: number }>(w.tx, REDEEM_STATEMENTS.takeStock, [quantity, w.now, item.id, quantity]);
      if (!stock) throw new OutOfStockError(item.id, 0);
      if (stock.stock === 0) uow.afterCommit(() => this.soldOut.emit({ itemId: item.id }));
      return { redemption, memberId, remainingPoints: member.balance, duplicate: false };
    });
  }

  /** COUPON: one coupon per unit; VIP: level and days, stacked on an active VIP; others need nothing now. */
  private async fulfil(tx: EntityManager, redemption: Redemption, item: RedeemedItem, now: Date) {
    if (item.type === ItemType.COUPON) {
      const value = String(item.config!.value);
      const validDays = Number(item.config!.validDays);
      for (let i = 0; i < redemption.quantity; i++) {
        tx.create(Coupon, {
          code: newCouponCode(),
          memberId: redemption.memberId,
          redemptionId: redemption.id,
          value: new Decimal(value).toFixed(2),
          expiresAt: new Date(now.getTime() + validDays * DAY_MS),
          status: CouponStatus.ACTIVE,
          createdAt: now,
        });
      }
    }
    if (item.type === ItemType.VIP) {
      const level = Number(item.config!.level);
      const days = Number(item.config!.days) * redemption.quantity;
      redemption.vipDays = days;
      const vip = await tx.findOne(MemberVip, { memberId: redemption.memberId });
      const activeUntil = vip && vip.expiresAt > now ? vip.expiresAt : now;
      const expiresAt = new Date(activeUntil.getTime() + days * DAY_MS);
      if (vip) Object.assign(vip, { level: vip.expiresAt > now ? Math.max(vip.level, level) : level, expiresAt });
      else tx.create(MemberVip, { memberId: redemption.memberId, level, expiresAt });
    }
  }

  /**
   * cancelRedemption: points back through the ledger (REFUND), stock back, unused coupons void,
   * VIP days taken back. Idempotent; a shipped redemption or a used coupon cannot be undone.
   * A member may cancel its own redemption while it awaits payment or (unpaid items only)
   * shipment; once the cash is paid only an admin can cancel, and the payment system refunds
   * the cash.
   */
  async cancel(em: EntityManager, principal: Principal, id: string, reasonInput: string): Promise<Redemption> {
    const reason = reasonInput.trim();
    if (!reason || reason.length > 500) throw new BadInputError('reason must be 1 to 500 characters', 'reason');
    const found = isUuid(id) ? await em.fork().findOne(Redemption, { id }) : null;
    if (!found) throw new RedemptionNotFoundError(id);
    if (principal.role === Role.MEMBER) {
      if (found.memberId !== principal.memberId) throw new ForbiddenError('A member may only cancel its own redemptions');
    } else if (principal.role !== Role.ADMIN) {
      throw new ForbiddenError();
    }

    return transact(em, async (uow) => {
      const w = this.deps.writers.of(uow);
      const member = await w.lockMember(found.memberId);
      const redemption = await lockRedemption(w.tx, id);
      if (redemption.status === RedemptionStatus.CANCELLED) return redemption;
      if (principal.role === Role.MEMBER && !memberMayCancel(redemption)) {
        throw new RedemptionStateError(id, redemption.status, 'cancelled by the member (only while awaiting payment, or shipment of an unpaid item)');
      }
      if (redemption.status === RedemptionStatus.SHIPPED) throw new RedemptionStateError(id, redemption.status, 'cancelled');
      const coupons = await lockCoupons(w.tx, id);
      if (coupons.some((c) => c.status === CouponStatus.USED)) throw new RedemptionStateError(id, 'already used', 'cancelled');
      await this.release(w, member, redemption, coupons, { source: `${principal.role}:${principal.subject}`, reason });
      uow.afterCommit(() => this.unitsReturned.emit({ itemId: redemption.itemId }));
      return redemption;
    });
  }

  /**
   * Gives everything a redemption took back: coupons void, VIP days off, points to the lots they
   * came from (REFUND), stock back. The caller holds the locks (steps 1 to 3) and has checked
   * the status.
   */
  private async release(w: LedgerWriter, member: LockedMember, redemption: Redemption, coupons: Coupon[], by: { source: string; reason: string }) {
    for (const coupon of coupons) coupon.status = CouponStatus.VOID;
    if (redemption.vipDays) {
      const vip = await w.tx.findOne(MemberVip, { memberId: redemption.memberId });
      if (vip) vip.expiresAt = new Date(vip.expiresAt.getTime() - redemption.vipDays * DAY_MS);
    }
    if (redemption.pointsSpent > 0) {
      const refund = await w.refund(member, redemption.entryId, {
        reference: redemption.id,
        source: by.source,
        description: `取消兑换: ${by.reason}`,
        idempotencyKey: redemption.id,
      });
      redemption.refundEntryId = refund?.id ?? null;
    }
    await w.tx.execute('update catalog_item set stock = stock + ?, updated_at = ? where id = ?', [redemption.quantity, w.now, redemption.itemId]);
    Object.assign(redemption, { status: RedemptionStatus.CANCELLED, cancelReason: by.reason, cancelledAt: w.now });
    await w.tx.flush();
  }

  /**
   * confirmRedemptionPayment: the payment system says the cash part is paid. The amount must be
   * cashDue; the same reference again returns the same redemption; then it is fulfilled exactly
   * as a points-only redemption is. Too late or after a cancel: CONFLICT, the cash goes back.
   */
  async confirmPayment(em: EntityManager, id: string, input: ConfirmPaymentFields): Promise<Redemption> {
    const reference = input.paymentReference.trim();
    if (!reference || reference.length > KEY_MAX) throw new BadInputError(`paymentReference must be 1 to ${KEY_MAX} characters`, 'paymentReference');
    if (!input.amount.isFinite() || input.amount.lte(0) || input.amount.decimalPlaces() > 2) {
      throw new BadInputError('amount must be a positive amount with at most 2 decimals', 'amount');
    }
    const found = isUuid(id) ? await em.fork().findOne(Redemption, { id }) : null;
    if (!found) throw new RedemptionNotFoundError(id);

    const confirm = () =>
      transact(em, async (uow) => {
        const w = this.deps.writers.of(uow);
        await w.lockMember(found.memberId);
        const redemption = await lockRedemption(w.tx, id);
        if (redemption.cashDue == null || new Decimal(redemption.cashDue).lte(0)) throw new PaymentConflictError(id, 'has no cash part to pay', redemption.status);
        if (!input.amount.eq(redemption.cashDue)) throw new BadInputError(`amount must equal the redemption's cashDue (${redemption.cashDue})`, 'amount');
        if (redemption.paymentReference === reference) return redemption;
        if (redemption.paymentReference) throw new PaymentConflictError(id, 'is already paid with another paymentReference', redemption.status);
        if (redemption.status !== RedemptionStatus.PENDING_PAYMENT) throw new PaymentConflictError(id, `is ${redemption.status}; refund the payment`, redemption.status);
        if (w.now >= redemption.paymentDueBy!) throw new PaymentConflictError(id, 'passed its paymentDueBy; refund the payment', redemption.status);
        const [other] = await w.tx.execute<{ id: string }[]>('select id from redemption where payment_reference = ?', [reference]);
        if (other) throw new PaymentConflictError(id, 'cannot be paid with a paymentReference that paid another redemption', redemption.status);
        const item = await w.tx.findOneOrFail(CatalogItem, { id: redemption.itemId });
        Object.assign(redemption, { status: deliveredStatus(item), paymentReference: reference, paidAt: w.now });
        await this.fulfil(w.tx, redemption, item, w.now);
        await w.tx.flush();
        await this.deps.notifications.record(w.tx, w.now, [deliveredNotice(redemption, item)]);
        return redemption;
      });
    try {
      return await confirm();
    } catch (error) {
      // Two redemptions raced to claim one reference: the unique index let one through.
      if (uniqueViolation(error) === 'redemption_payment_reference_unique') {
        throw new PaymentConflictError(id, 'cannot be paid with a paymentReference that paid another redemption', found.status);
      }
      throw error;
    }
  }

  /**
   * Releases one unpaid hold past its paymentDueBy (the payment-timeout job). Skips a member
   * locked by another transaction (SKIP LOCKED): that one is busy paying or cancelling, and the
   * next run looks again. Returns whether it released the hold.
   */
  async releaseUnpaid(em: EntityManager, id: string, memberId: string): Promise<boolean> {
    return transact(em, async (uow) => {
      const w = this.deps.writers.of(uow);
      const [free] = await w.tx.execute<{ id: string }[]>('select id from member where id = ? for update skip locked', [memberId]);
      if (!free) return false;
      const member = await w.lockMember(memberId);
      const redemption = await lockRedemption(w.tx, id);
      if (redemption.status !== RedemptionStatus.PENDING_PAYMENT || !redemption.paymentDueBy || redemption.paymentDueBy > w.now) return false;
      await this.release(w, member, redemption, await lockCoupons(w.tx, id), { source: 'system:payment-timeout', reason: PAYMENT_TIMEOUT_REASON });
      uow.afterCommit(() => this.unitsReturned.emit({ itemId: redemption.itemId }));
      const item = await w.tx.findOneOrFail(CatalogItem, { id: redemption.itemId });
      await this.deps.notifications.record(w.tx, w.now, [
        {
          memberId,
          kind: NotificationKind.REDEMPTION,
          title: '兑换已取消',
          body: `「${item.name}」×${redemption.quantity}未在支付期限内完成支付,已自动取消,${redemption.pointsSpent}积分已退回。`,
          data: { redemptionId: redemption.id, itemId: item.id, reason: PAYMENT_TIMEOUT_REASON, points: redemption.pointsSpent },
        },
      ]);
      return true;
    });
  }

  async markShipped(em: EntityManager, id: string, trackingInput: string): Promise<Redemption> {
    const trackingNumber = trackingInput.trim();
    if (!trackingNumber || trackingNumber.length > 64) throw new BadInputError('trackingNumber must be 1 to 64 characters', 'trackingNumber');
    if (!isUuid(id)) throw new RedemptionNotFoundError(id);
    return transact(em.fork(), async ({ tx }) => {
      const redemption = await lockRedemption(tx, id);
      if (redemption.status === RedemptionStatus.SHIPPED && redemption.trackingNumber === trackingNumber) return redemption;
      if (redemption.status !== RedemptionStatus.PENDING_SHIPMENT) throw new RedemptionStateError(id, redemption.status, 'shipped');
      Object.assign(redemption, { status: RedemptionStatus.SHIPPED, trackingNumber, shippedAt: this.deps.clock.now() });
      return redemption;
    });
  }

  /**
   * A partner's till redeems a coupon once; expired or void ones are refused. Locks the
   * redemption before the coupon (the lock order), so a cancel racing it either voids the
   * coupon first or finds it USED.
   */
  async useCoupon(em: EntityManager, code: string): Promise<Coupon> {
    const normalized = code.trim().toUpperCase();
    return transact(em.fork(), async ({ tx }) => {
      const [row] = await tx.execute<{ redemption_id: string }[]>('select redemption_id from coupon where code = ?', [normalized]);
      if (!row) throw new NotFoundError('Coupon', code);
      await lockRedemption(tx, row.redemption_id);
      const coupon = await tx.findOneOrFail(Coupon, { code: normalized }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      const now = this.deps.clock.now();
      if (coupon.status !== CouponStatus.ACTIVE) throw new ConflictError(`This coupon is ${coupon.status}`, { status: coupon.status });
      if (coupon.expiresAt <= now) throw new ConflictError('This coupon has expired', { status: CouponStatus.EXPIRED });
      Object.assign(coupon, { status: CouponStatus.USED, usedAt: now });
      return coupon;
    });
  }

  async memberRedemptions(em: EntityManager, memberId: string, first: number | null | undefined, after: string | null | undefined) {
    const { pages, limit } = await this.redemptionsOf(em, [memberId], first, after);
    return { rows: pages.get(memberId) ?? [], limit };
  }

  /** A page of redemptions for each of many members in one statement (Member.redemptions's loader), newest first. */
  async redemptionsOf(em: EntityManager, memberIds: string[], first: number | null | undefined, after: string | null | undefined) {
    const limit = pageSize(first);
    const cursor = decodeTimeIdCursor(after);
    const params: unknown[] = [JSON.stringify(memberIds)];
    let seek = '';
    if (cursor) {
      seek = 'and (r.created_at, r.id) < (?, ?::uuid)';
      params.push(cursor.at, cursor.id);
    }
    const raw = await em.execute<Record<string, unknown>[]>(
      `select p.* from jsonb_array_elements_text(?::jsonb) as m(id)
       cross join lateral (select r.* from redemption r where r.member_id = m.id::uuid ${seek} order by r.created_at desc, r.id desc limit ?) p`,
      [...params, limit + 1],
    );
    const rows = raw.map((row) => em.map(Redemption, row));
    return { pages: groupBy(rows, (r) => r.memberId), limit };
  }

  async memberCoupons(em: EntityManager, memberId: string): Promise<Coupon[]> {
    return (await this.couponsOf(em, [memberId])).get(memberId) ?? [];
  }

  /** Every coupon of each of many members in one statement (Member.coupons's loader), soonest expiry first. */
  async couponsOf(em: EntityManager, memberIds: string[]): Promise<Map<string, Coupon[]>> {
    const rows = await em.find(Coupon, { memberId: { $in: memberIds } }, { orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }] });
    return groupBy(rows, (c) => c.memberId);
  }

  async memberVip(em: EntityManager, memberId: string): Promise<MemberVip | null> {
    return (await this.vipOf(em, [memberId])).get(memberId) ?? null;
  }

  /** The running VIP membership of each of many members in one statement (Member.vip's loader). */
  async vipOf(em: EntityManager, memberIds: string[]): Promise<Map<string, MemberVip>> {
    const now = this.deps.clock.now();
    const rows = await em.find(MemberVip, { memberId: { $in: memberIds } });
    return new Map(rows.filter((vip) => vip.expiresAt > now).map((vip) => [vip.memberId, vip]));
  }

  /**
   * Quick options: what the member can afford for 30%..100% of the balance, closest to 70%
   * first, and a nudge when points expire within a week.
   */
  async quickOptions(em: EntityManager, memberId: string, firstInput: number | null | undefined) {
    const first = Math.min(Math.max(firstInput ?? 3, 0), 20);
    const now = this.deps.clock.now();
    // Spendable points: lots past their date that nothing has expired yet are left out (redeem would expire them first).
    const [member] = await em.execute<{ balance: number; status: MemberStatus; language: string }[]>(
      `select ${SPENDABLE_BALANCE_SQL} as balance,
              m.status, m.language
       from member m where m.id = ?`,
      [now, memberId],
    );
    if (!member) throw new NotFoundError('Member', memberId);
    const rows =
      member.balance > 0
        ? await em.execute<(Record<string, unknown> & { used: number })[]>(
            `select ci.*, coalesce((select sum(r.quantity) from redemption r where r.member_id = ? and r.item_id = ci.id and r.status <> 'CANCELLED'), 0)::int as used
           from catalog_item ci
           where ci.active and ci.stock >= 1 and ci.points_price between ? and ?
             and (ci.available_from is null or ci.available_from <= ?) and (ci.available_until is null or ci.available_until > ?)
           order by abs(ci.points_price - ?), ci.points_price, ci.id limit ?`,
            [memberId, Math.ceil(member.balance * QUICK_MIN_SHARE), Math.floor(member.balance * QUICK_MAX_SHARE), now, now, member.balance * QUICK_TARGET_SHARE, first],
          )
        : [];
    const options = rows.map(({ used, ...row }) => {
      const item = em.map(CatalogItem, row);
      const withinLimit = item.perMemberLimit == null || used < item.perMemberLimit;
      return { item, canRedeem: member.status === MemberStatus.ACTIVE && withinLimit, remainingAfter: member.balance - item.pointsPrice };
    });
    const lots = await em.execute<{ remaining: number; expires_at: Date }[]>(
      'select remaining, expires_at from points_lot where member_id = ? and remaining > 0 and expires_at > ? and expires_at <= ?',
      [memberId, now, new Date(now.getTime() + QUICK_WARNING_DAYS * DAY_MS)],
    );
    const soon = expirySummary(
      lots.map((l) => ({ remaining: l.remaining, expiresAt: new Date(l.expires_at) })),
      now,
      QUICK_WARNING_DAYS,
    );
    const expiryWarning = soon.points > 0 && soon.earliestExpiry ? expiryWarningText(soon.points, daysUntil(now, soon.earliestExpiry), member.language) : null;
    return { balance: member.balance, options, expiryWarning };
  }
}

/** Step 2 of the lock order; the row is read again under the lock, never from the identity map. */
async function lockRedemption(tx: EntityManager, id: string): Promise<Redemption> {
  const redemption = await tx.findOne(Redemption, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  if (!redemption) throw new RedemptionNotFoundError(id);
  return redemption;
}

/** Step 3 of the lock order: the redemption's coupons, by id. */
function lockCoupons(tx: EntityManager, redemptionId: string): Promise<Coupon[]> {
  return tx.find(Coupon, { redemptionId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true, orderBy: { id: 'asc' } });
}

/** What a paid (or points-only) redemption becomes: physical items wait for shipment, the rest are done. */
function deliveredStatus(item: RedeemedItem): RedemptionStatus {
  return item.type === ItemType.PHYSICAL ? RedemptionStatus.PENDING_SHIPMENT : RedemptionStatus.COMPLETED;
}

/**
 * A member cancels while nothing was delivered and no cash was taken: awaiting payment, or
 * awaiting shipment of an item paid in points only (a paid one needs the payment system's
 * refund, so an admin cancels it).
 */
function memberMayCancel(redemption: Redemption): boolean {
  if (redemption.status === RedemptionStatus.PENDING_PAYMENT) return true;
  return redemption.status === RedemptionStatus.PENDING_SHIPMENT && redemption.paymentReference == null;
}

function deliveredNotice(redemption: Redemption, item: RedeemedItem) {
  const paid = redemption.cashDue != null && redemption.paymentReference ? `+¥${redemption.cashDue}` : '';
  return {
    memberId: redemption.memberId,
    kind: NotificationKind.REDEMPTION,
    title: '兑换成功',
    body: `您已使用${redemption.pointsSpent}积分${paid}兑换「${item.name}」×${redemption.quantity}${redemption.status === RedemptionStatus.PENDING_SHIPMENT ? ',我们会尽快发货。' : '。'}`,
    data: { redemptionId: redemption.id, itemId: item.id, quantity: redemption.quantity, points: redemption.pointsSpent },
  };
}

function hasAddress(address: unknown): boolean {
  return !!address && typeof address === 'object' && !Array.isArray(address) && Object.values(address).some((v) => typeof v === 'string' && v.trim() !== '');
}
