import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { Role } from '../auth/principal';
import { toConnection } from '../platform/graphql/connection';
import { PartnerCallConnection, toPartnerCallType } from './partner.types';

@Resolver()
export class PartnerResolver {
  @Authorized(Role.ADMIN)
  @Query(() => PartnerCallConnection, { description: 'Admins: every call partners made to /partner/graphql, newest first; until is exclusive.' })
  async partnerCalls(
    @Arg('partnerId', () => String, { nullable: true }) partnerId: string | null,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Arg('until', () => Date, { nullable: true }) until: Date | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.services.partnerCalls.list(ctx.em, { partnerId, since, until }, first, after);
    return toConnection(page.rows, page.limit, (c) => [c.at.toISOString(), String(c.id)], toPartnerCallType);
  }
}
