import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { toItemType } from '../catalog/catalog.types';
import { RecommendationReason, RecommendationType } from './recommendation.types';

@Resolver(() => RecommendationType)
export class RecommendationResolver {
  @Authorized(Role.MEMBER)
  @Query(() => [RecommendationType], { description: 'What the signed-in member could redeem next, best first, each with its reason.' })
  async recommendations(@Arg('first', () => Int, { nullable: true, defaultValue: 5 }) first: number | null, @Ctx() ctx: Context): Promise<RecommendationType[]> {
    // A cached list's items are loaded while it is re-checked (the loader keeps them for below).
    const list = await ctx.services.recommendations.recommend(ctx.em, requireMemberId(ctx.principal), first, (ids) => void ctx.loaders.itemById.loadMany(ids));
    const items = await ctx.loaders.itemById.loadMany(list.map((r) => r.itemId));
    return list.flatMap((r, i) => {
      const item = items[i];
      if (!item || item instanceof Error) return [];
      return [{ item: toItemType(item), score: r.score, reasonCode: r.reasonCode as RecommendationReason, reason: r.reason }];
    });
  }
}
