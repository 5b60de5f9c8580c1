import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { Decimal } from 'decimal.js';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { CatalogItemType } from '../catalog/catalog.types';
import type { ItemType } from '../catalog';
import { RecommendationReason, RecommendationType } from './recommendation.types';
import type { ItemRow } from './recommendation.service';

@Resolver(() => RecommendationType)
export class RecommendationResolver {
  @Authorized(Role.MEMBER)
  @Query(() => [RecommendationType], { description: 'What the signed-in member could redeem next, best first, each with its reason.' })
  async recommendations(@Arg('first', () => Int, { nullable: true, defaultValue: 5 }) first: number | null, @Ctx() ctx: Context): Promise<RecommendationType[]> {
    // The items come with the list, from the statement that re-checked them: no loader, no ORM.
    const list = await ctx.services.recommendations.recommend(ctx.em, requireMemberId(ctx.principal), first);
    return list.map((r) => ({ item: itemType(r.item), score: r.score, reasonCode: r.reasonCode as RecommendationReason, reason: r.reason }));
  }
}

/** A CatalogItem from the re-check's row (what toItemType makes of an entity). */
function itemType(row: ItemRow): CatalogItemType {
  return Object.assign(new CatalogItemType(), {
    ...row,
    type: row.type as ItemType,
    cashPrice: row.cashPrice == null ? null : new Decimal(row.cashPrice),
    availableFrom: row.availableFrom == null ? null : new Date(row.availableFrom),
    availableUntil: row.availableUntil == null ? null : new Date(row.availableUntil),
    config: null,
  });
}
