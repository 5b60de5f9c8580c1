import { Decimal } from 'decimal.js';
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { isAdmin, requireMemberId, Role } from '../auth/principal';
import { toConnection } from '../platform/graphql/connection';
import { MemberType, toMemberType } from '../members/member.types';
import { currentMember } from '../members';
import { CouponStatus } from './catalog.entity';
import { availableToMember, couponsWithStatus, isRedeemable } from './catalog.rules';
import {
  CatalogFilter,
  CatalogItemConnection,
  CatalogItemInput,
  CatalogItemType,
  CouponType,
  QuickRedeemOptionsType,
  RedeemInput,
  RedeemPayload,
  RedemptionConnection,
  RedemptionType,
  VipStatusType,
  toCouponType,
  toItemType,
  toRedemptionType,
  toVipType,
} from './catalog.types';

const viewerOf = (ctx: Context) => ({ memberId: ctx.principal.memberId, admin: isAdmin(ctx.principal) });

@Resolver(() => CatalogItemType)
export class CatalogResolver {
  @Authorized()
  @Query(() => CatalogItemConnection)
  async catalog(
    @Arg('filter', () => CatalogFilter, { nullable: true }) filter: CatalogFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.services.catalog.list(ctx.em, viewerOf(ctx), filter, first, after);
    return { ...toConnection(page.rows, page.limit, (i) => [i.pointsPrice, i.id], toItemType), totalCount: page.totalCount };
  }

  @Authorized()
  @Query(() => CatalogItemType, { nullable: true })
  async catalogItem(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<CatalogItemType | null> {
    const item = await ctx.services.catalog.find(ctx.em, id, viewerOf(ctx));
    return item && toItemType(item);
  }

  @FieldResolver(() => Int, { description: 'Redemptions in the last 7 days.' })
  recentRedemptions(@Root() item: CatalogItemType, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.recentRedemptions.load(item.id);
  }

  @FieldResolver(() => Boolean, {
    description: 'Whether the viewing member can redeem one now (balance, stock, window, limit). For points + cash items: the points part; the cash (cashPrice) is paid afterwards, before delivery.',
  })
  async redeemable(@Root() item: CatalogItemType, @Ctx() ctx: Context): Promise<boolean> {
    const memberId = ctx.principal.memberId;
    const now = ctx.clock.now();
    // Nothing to load when no member could redeem it (the limit is checked below, with the usage).
    if (!memberId || !availableToMember(item, 0, now)) return false;
    const [member, used] = await Promise.all([ctx.loaders.memberById.load(memberId), item.perMemberLimit == null ? 0 : ctx.loaders.memberItemUsage.load(`${memberId}|${item.id}`)]);
    return isRedeemable(item, member, used, now);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CatalogItemType)
  async createCatalogItem(@Arg('input', () => CatalogItemInput) input: CatalogItemInput, @Ctx() ctx: Context): Promise<CatalogItemType> {
    return toItemType(await ctx.services.catalog.create(ctx.em, input));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CatalogItemType)
  async updateCatalogItem(@Arg('id', () => ID) id: string, @Arg('input', () => CatalogItemInput) input: CatalogItemInput, @Ctx() ctx: Context): Promise<CatalogItemType> {
    return toItemType(await ctx.services.catalog.update(ctx.em, id, input));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CatalogItemType)
  async restockCatalogItem(@Arg('id', () => ID) id: string, @Arg('quantity', () => Int) quantity: number, @Ctx() ctx: Context): Promise<CatalogItemType> {
    return toItemType(await ctx.services.catalog.restock(ctx.em, id, quantity));
  }
}

/** RedeemPayload.member: read after commit, and only when selected. */
@Resolver(() => RedeemPayload)
export class RedeemPayloadResolver {
  @FieldResolver(() => MemberType)
  member(@Root() payload: RedeemPayload, @Ctx() ctx: Context): Promise<MemberType> {
    return currentMember(ctx, payload.memberId);
  }
}

@Resolver(() => RedemptionType)
export class RedemptionResolver {
  @Authorized(Role.MEMBER)
  @Mutation(() => RedeemPayload)
  async redeem(@Arg('input', () => RedeemInput) input: RedeemInput, @Ctx() ctx: Context): Promise<RedeemPayload> {
    const result = await ctx.services.redemptions.redeem(ctx.em, requireMemberId(ctx.principal), input);
    // remainingPoints is the balance the transaction left (its due lots expired first, so it is
    // the spendable balance); the member is read only when the client asks for it (issue 14).
    return Object.assign(new RedeemPayload(), { redemption: toRedemptionType(result.redemption), memberId: result.memberId, remainingPoints: result.remainingPoints });
  }

  @Authorized(Role.ADMIN, Role.MEMBER)
  @Mutation(() => RedemptionType)
  async cancelRedemption(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: Context): Promise<RedemptionType> {
    return toRedemptionType(await ctx.services.redemptions.cancel(ctx.em, ctx.principal, id, reason));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RedemptionType)
  async markRedemptionShipped(@Arg('id', () => ID) id: string, @Arg('trackingNumber', () => String) trackingNumber: string, @Ctx() ctx: Context): Promise<RedemptionType> {
    return toRedemptionType(await ctx.services.redemptions.markShipped(ctx.em, id, trackingNumber));
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => RedemptionType, { description: 'Partners (the payment system) and admins: the cash part was paid; idempotent on paymentReference.' })
  async confirmRedemptionPayment(
    @Arg('id', () => ID) id: string,
    @Arg('paymentReference', () => String) paymentReference: string,
    @Arg('amount', () => Decimal) amount: Decimal,
    @Ctx() ctx: Context,
  ): Promise<RedemptionType> {
    return toRedemptionType(await ctx.services.redemptions.confirmPayment(ctx.em, id, { paymentReference, amount }));
  }

  @Authorized(Role.ADMIN, Role.PARTNER)
  @Mutation(() => CouponType, { description: 'Added to the contract: a partner marks a coupon used at its till.' })
  async useCoupon(@Arg('code', () => String) code: string, @Ctx() ctx: Context): Promise<CouponType> {
    return toCouponType(await ctx.services.redemptions.useCoupon(ctx.em, code), ctx.clock.now());
  }

  @Authorized(Role.MEMBER)
  @Query(() => QuickRedeemOptionsType)
  async quickRedeemOptions(@Arg('first', () => Int, { nullable: true, defaultValue: 3 }) first: number | null, @Ctx() ctx: Context): Promise<QuickRedeemOptionsType> {
    const result = await ctx.services.redemptions.quickOptions(ctx.em, requireMemberId(ctx.principal), first);
    return {
      ...result,
      options: result.options.map((o) => ({ ...o, item: toItemType(o.item), cashDue: o.item.cashPrice == null || Number(o.item.cashPrice) === 0 ? null : new Decimal(o.item.cashPrice) })),
    };
  }

  @FieldResolver(() => CatalogItemType)
  async item(@Root() redemption: RedemptionType, @Ctx() ctx: Context): Promise<CatalogItemType> {
    return toItemType((await ctx.loaders.itemById.load(redemption.itemId))!);
  }

  @FieldResolver(() => MemberType)
  async member(@Root() redemption: RedemptionType, @Ctx() ctx: Context): Promise<MemberType> {
    return toMemberType((await ctx.loaders.memberById.load(redemption.memberId))!);
  }

  @FieldResolver(() => CouponType, { nullable: true })
  async coupon(@Root() redemption: RedemptionType, @Ctx() ctx: Context): Promise<CouponType | null> {
    const [first] = await ctx.loaders.couponsByRedemption.load(redemption.id);
    return first ? toCouponType(first, ctx.clock.now()) : null;
  }

  @FieldResolver(() => [CouponType], { description: 'Added to the contract: every coupon a multi-unit coupon redemption issued.' })
  async coupons(@Root() redemption: RedemptionType, @Ctx() ctx: Context): Promise<CouponType[]> {
    return (await ctx.loaders.couponsByRedemption.load(redemption.id)).map((c) => toCouponType(c, ctx.clock.now()));
  }
}

@Resolver(() => MemberType)
export class MemberCatalogResolver {
  @FieldResolver(() => RedemptionConnection)
  async redemptions(
    @Root() member: MemberType,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.loaders.redemptionPage.load({ ownerId: member.id, args: { first, after } });
    return toConnection(page.rows, page.limit, (r) => [r.createdAt.toISOString(), r.id], toRedemptionType);
  }

  @FieldResolver(() => [CouponType])
  async coupons(@Root() member: MemberType, @Arg('status', () => CouponStatus, { nullable: true }) status: CouponStatus | null, @Ctx() ctx: Context): Promise<CouponType[]> {
    const now = ctx.clock.now();
    const coupons = await ctx.loaders.memberCoupons.load({ ownerId: member.id, args: null });
    return couponsWithStatus(coupons, status, now).map((c) => toCouponType(c, now));
  }

  @FieldResolver(() => VipStatusType, { nullable: true })
  async vip(@Root() member: MemberType, @Ctx() ctx: Context): Promise<VipStatusType | null> {
    const vip = await ctx.loaders.memberVip.load({ ownerId: member.id, args: null });
    return vip && toVipType(vip);
  }
}
