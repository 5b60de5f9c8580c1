import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError, ConflictError, DomainError, ForbiddenError, NotFoundError } from '../platform/errors';
import { decodeCursor, pageSize } from '../platform/graphql/connection';
import { isUuid } from '../platform/ids';
import { Role, type Principal } from '../auth/principal';
import { MemberStatus } from '../members/member.entity';
import { MemberFrozenError } from '../members/member.errors';
import { LedgerEntryType } from '../ledger/ledger.entity';
import { SPENDABLE_BALANCE_SQL } from '../ledger/ledger.sql';
import { InsufficientPointsError } from '../ledger/ledger.errors';
import type { LedgerService } from '../ledger/ledger.service';
import { daysUntil, expirySummary } from '../ledger/ledger.rules';
import type { ProgramService } from '../program/program.service';
import type { NotificationService } from '../notifications/notification.service';
import { NotificationKind } from '../notifications/notification.entity';
import { CatalogItem, Coupon, CouponStatus, ItemType, MemberVip, Redemption, RedemptionStatus } from './catalog.entity';
import {
  ItemNotFoundError,
  ItemUnavailableError,
  LimitExceededError,
  OutOfStockError,
  RedeemRateLimitedError,
  RedemptionNotFoundError,
  RedemptionStateError,
} from './catalog.errors';
import { expiryWarningText } from '../notifications/notification.texts';
import { isAvailable, newCouponCode, QUICK_MAX_SHARE, QUICK_MIN_SHARE, QUICK_TARGET_SHARE, redeemFingerprint } from './catalog.rules';

const KEY_MAX = 128;
const DAY_MS = 86_400_000;
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

export class RedemptionService {
  /** Told about every redeem attempt once it is over (metrics); wired by the composition root. */
  readonly attempts: RedemptionListener[] = [];

  constructor(
    private readonly deps: { clock: Clock; ledger: LedgerService; program: ProgramService; notifications: NotificationService },
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
      const result = await this.redeemOnce(em, memberId, input, seen);
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
    const settings = await this.deps.program.settings(em);

    return this.deps.ledger.inTransaction(em, async (w) => {
      const member = await w.lockMember(memberId);
      const previous = await w.tx.findOne(Redemption, { memberId, idempotencyKey: key });
      if (previous) {
        if (previous.requestHash !== fingerprint) throw new ConflictError('This idempotencyKey was already used for another redemption', { idempotencyKey: key });
        return { redemption: previous, memberId, remainingPoints: member.balance, duplicate: true };
      }
      if (member.status === MemberStatus.FROZEN) throw new MemberFrozenError(memberId);
      const item = await w.tx.findOne(CatalogItem, { id: input.itemId });
      if (!item) throw new ItemNotFoundError(input.itemId);
      seen.itemType = item.type;
      if (!isAvailable(item, w.now)) throw new ItemUnavailableError(item.id);
      if (quantity > settings.maxQuantityPerRedemption) {
        throw new LimitExceededError(`At most ${settings.maxQuantityPerRedemption} units per redemption`, settings.maxQuantityPerRedemption);
      }
      const [{ used, recent }] = await w.tx.execute<{ used: number; recent: number }[]>(
        `select coalesce(sum(quantity) filter (where item_id = ? and status <> 'CANCELLED'), 0)::int as used,
                count(*) filter (where created_at > ?)::int as recent
         from redemption where member_id = ?`,
        [item.id, new Date(w.now.getTime() - 30 * 60_000), memberId],
      );
      if (item.perMemberLimit != null && used + quantity > item.perMemberLimit) {
        throw new LimitExceededError(`At most ${item.perMemberLimit} per member (${used} already redeemed)`, item.perMemberLimit);
      }
      if (recent >= settings.redeemLimitPer30Min) throw new RedeemRateLimitedError(settings.redeemLimitPer30Min);
      if (item.type === ItemType.PHYSICAL && !hasAddress(input.shippingAddress)) {
        throw new BadInputError('A physical item needs a shippingAddress', 'shippingAddress');
      }
      const cost = item.pointsPrice * quantity;
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
      const redemption = w.tx.create(Redemption, {
        id: redemptionId,
        memberId,
        itemId: item.id,
        quantity,
        pointsSpent: cost,
        cashDue: item.cashPrice == null ? null : new Decimal(item.cashPrice).times(quantity).toFixed(2),
        status: item.type === ItemType.PHYSICAL ? RedemptionStatus.PENDING_SHIPMENT : RedemptionStatus.COMPLETED,
        entryId: entry.id,
        idempotencyKey: key,
        requestHash: fingerprint,
        shippingAddress: input.shippingAddress ?? null,
        createdAt: w.now,
      });
      await this.fulfil(w.tx, redemption, item, w.now);
      await w.tx.flush();
      await w.tx.execute('update member set last_active_at = ? where id = ?', [w.now, memberId]);
      await this.deps.notifications.record(w.tx, w.now, [
        {
          memberId,
          kind: NotificationKind.REDEMPTION,
          title: '兑换成功',
          body: `您已使用${cost}积分兑换「${item.name}」×${quantity}${redemption.status === RedemptionStatus.PENDING_SHIPMENT ? ',我们会尽快发货。' : '。'}`,
          data: { redemptionId, itemId: item.id, quantity, points: cost },
        },
      ]);
      // Stock last: the item's row is locked only from here to commit, so a flash sale's hot
      // row is held for one statement, not for the whole redemption.
      const [stock] = await w.tx.execute<{ stock: number }[]>(
        'update catalog_item set stock = stock - ?, updated_at = ? where id = ? and stock >= ? returning stock',
        [quantity, w.now, item.id, quantity],
      );
      if (!stock) throw new OutOfStockError(item.id, 0);
      return { redemption, memberId, remainingPoints: member.balance, duplicate: false };
    });
  }

  /** COUPON: one coupon per unit; VIP: level and days, stacked on an active VIP; others need nothing now. */
  private async fulfil(tx: EntityManager, redemption: Redemption, item: CatalogItem, now: Date) {
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

    return this.deps.ledger.inTransaction(em, async (w) => {
      const member = await w.lockMember(found.memberId);
      const redemption = await w.tx.findOneOrFail(Redemption, { id }, { refresh: true });
      if (redemption.status === RedemptionStatus.CANCELLED) return redemption;
      if (principal.role === Role.MEMBER && redemption.status !== RedemptionStatus.PENDING_SHIPMENT) {
        throw new RedemptionStateError(id, redemption.status, 'cancelled by the member (only while awaiting shipment)');
      }
      if (redemption.status === RedemptionStatus.SHIPPED) throw new RedemptionStateError(id, redemption.status, 'cancelled');
      const coupons = await w.tx.find(Coupon, { redemptionId: id });
      if (coupons.some((c) => c.status === CouponStatus.USED)) throw new RedemptionStateError(id, 'already used', 'cancelled');
      for (const coupon of coupons) coupon.status = CouponStatus.VOID;
      if (redemption.vipDays) {
        const vip = await w.tx.findOne(MemberVip, { memberId: redemption.memberId });
        if (vip) vip.expiresAt = new Date(vip.expiresAt.getTime() - redemption.vipDays * DAY_MS);
      }
      if (redemption.pointsSpent > 0) {
        const refund = await w.refund(member, redemption.entryId, {
          reference: redemption.id,
          source: `${principal.role}:${principal.subject}`,
          description: `取消兑换: ${reason}`,
          idempotencyKey: redemption.id,
        });
        redemption.refundEntryId = refund.id;
      }
      await w.tx.execute('update catalog_item set stock = stock + ?, updated_at = ? where id = ?', [redemption.quantity, w.now, redemption.itemId]);
      Object.assign(redemption, { status: RedemptionStatus.CANCELLED, cancelReason: reason, cancelledAt: w.now });
      await w.tx.flush();
      return redemption;
    });
  }

  async markShipped(em: EntityManager, id: string, trackingInput: string): Promise<Redemption> {
    const trackingNumber = trackingInput.trim();
    if (!trackingNumber || trackingNumber.length > 64) throw new BadInputError('trackingNumber must be 1 to 64 characters', 'trackingNumber');
    if (!isUuid(id)) throw new RedemptionNotFoundError(id);
    return em.fork().transactional(async (tx) => {
      const redemption = await tx.findOne(Redemption, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!redemption) throw new RedemptionNotFoundError(id);
      if (redemption.status === RedemptionStatus.SHIPPED && redemption.trackingNumber === trackingNumber) return redemption;
      if (redemption.status !== RedemptionStatus.PENDING_SHIPMENT) throw new RedemptionStateError(id, redemption.status, 'shipped');
      Object.assign(redemption, { status: RedemptionStatus.SHIPPED, trackingNumber, shippedAt: this.deps.clock.now() });
      return redemption;
    });
  }

  /** A partner's till redeems a coupon once; expired or void ones are refused. */
  async useCoupon(em: EntityManager, code: string): Promise<Coupon> {
    return em.fork().transactional(async (tx) => {
      const coupon = await tx.findOne(Coupon, { code: code.trim().toUpperCase() }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!coupon) throw new NotFoundError('Coupon', code);
      const now = this.deps.clock.now();
      if (coupon.status !== CouponStatus.ACTIVE) throw new ConflictError(`This coupon is ${coupon.status}`, { status: coupon.status });
      if (coupon.expiresAt <= now) throw new ConflictError('This coupon has expired', { status: CouponStatus.EXPIRED });
      Object.assign(coupon, { status: CouponStatus.USED, usedAt: now });
      return coupon;
    });
  }

  async memberRedemptions(em: EntityManager, memberId: string, first: number | null | undefined, after: string | null | undefined) {
    const limit = pageSize(first);
    const cursor = decodeCursor(after, 2);
    const where: Record<string, unknown> = { memberId };
    if (cursor) {
      const createdAt = new Date(String(cursor[0]));
      if (Number.isNaN(createdAt.getTime()) || !isUuid(String(cursor[1]))) throw new BadInputError('after is not a cursor returned by this API', 'after');
      where.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, id: { $lt: String(cursor[1]) } }];
    }
    const rows = await em.find(Redemption, where, { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: limit + 1 });
    return { rows, limit };
  }

  async memberCoupons(em: EntityManager, memberId: string): Promise<Coupon[]> {
    return em.find(Coupon, { memberId }, { orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }] });
  }

  async memberVip(em: EntityManager, memberId: string): Promise<MemberVip | null> {
    const vip = await em.findOne(MemberVip, { memberId });
    return vip && vip.expiresAt > this.deps.clock.now() ? vip : null;
  }

  /**
   * Quick options: what the member can afford for 30%..100% of the balance, closest to 70%
   * first, and a nudge when points expire within a week.
   */
  async quickOptions(em: EntityManager, memberId: string, firstInput: number | null | undefined) {
    const first = Math.min(Math.max(firstInput ?? 3, 0), 20);
    const now = this.deps.clock.now();
    // Spendable points: lots past their date that nothing has expired yet are left out (redeem would expire them first).
    const [member] = await em.execute<{ balance: number; status: string; language: string }[]>(
      `select ${SPENDABLE_BALANCE_SQL} as balance,
              m.status, m.language
       from member m where m.id = ?`,
      [now, memberId],
    );
    if (!member) throw new NotFoundError('Member', memberId);
    const rows = member.balance > 0
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
    const soon = expirySummary(lots.map((l) => ({ remaining: l.remaining, expiresAt: new Date(l.expires_at) })), now, QUICK_WARNING_DAYS);
    const expiryWarning = soon.points > 0 && soon.earliestExpiry ? expiryWarningText(soon.points, daysUntil(now, soon.earliestExpiry), member.language) : null;
    return { balance: member.balance, options, expiryWarning };
  }
}

function hasAddress(address: unknown): boolean {
  return !!address && typeof address === 'object' && !Array.isArray(address) && Object.values(address).some((v) => typeof v === 'string' && v.trim() !== '');
}
