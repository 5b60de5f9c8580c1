import type { Context } from '../context';
import { MemberNotFoundError } from './member.errors';
import { toMemberType, type MemberType } from './member.types';

/**
 * A member as committed now (after a mutation), read through the request's loader so every
 * payload shows the same spendable balance as a query would. Used by every resolver that returns
 * a member after a write (members, ledger, catalog, tasks), so it lives here and not in a resolver.
 */
export async function currentMember(ctx: Context, id: string): Promise<MemberType> {
  const member = await ctx.loaders.memberById.clear(id).load(id);
  if (!member) throw new MemberNotFoundError(id);
  return toMemberType(member);
}
