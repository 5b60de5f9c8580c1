import { Authorized, Ctx, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../context';
import { Role } from '../auth/principal';
import { ForbiddenError } from '../platform/errors';
import { ProgramStatsType } from './program.types';
import type { ProgramStatsValue } from './stats.service';

/** The admins' live dashboard: the program's stats on demand and pushed while the ledger moves (./stats.feed.ts). */
@Resolver()
export class ProgramStatsResolver {
  @Authorized(Role.ADMIN)
  @Query(() => ProgramStatsType)
  async programStats(@Ctx() ctx: Context): Promise<ProgramStatsType> {
    return ctx.services.stats.compute(ctx.em, ctx.clock.now());
  }

  @Subscription(() => ProgramStatsType, {
    description: "Admins' live dashboard.",
    subscribe: ({ context }: { context: Context }) => {
      if (context.principal.role !== Role.ADMIN) throw new ForbiddenError('Only admins may watch program stats');
      return context.services.statsFeed.subscribe();
    },
  })
  programStatsUpdated(@Root() stats: ProgramStatsValue): ProgramStatsType {
    return stats;
  }
}
