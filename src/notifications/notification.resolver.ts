import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { requireMemberId, Role } from '../auth/principal';
import { toConnection } from '../platform/graphql/connection';
import { NotificationConnection, toNotificationType } from './notification.types';

@Resolver()
export class NotificationResolver {
  @Authorized(Role.MEMBER)
  @Query(() => NotificationConnection)
  async notifications(
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('unreadOnly', () => Boolean, { nullable: true, defaultValue: false }) unreadOnly: boolean | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.services.notifications.list(ctx.em, requireMemberId(ctx.principal), first, after, unreadOnly ?? false);
    return toConnection(page.rows, page.limit, (n) => [n.createdAt.toISOString(), n.id], toNotificationType);
  }

  @Authorized(Role.MEMBER)
  @Mutation(() => Int)
  async markNotificationsRead(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: Context): Promise<number> {
    return ctx.services.notifications.markRead(ctx.em, requireMemberId(ctx.principal), ids, ctx.clock.now());
  }
}
