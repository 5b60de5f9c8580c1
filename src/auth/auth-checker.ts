import type { AuthChecker } from 'type-graphql';
import type { Context } from '../context';

/** `@Authorized('admin', 'partner')`: the caller's role must be listed; `@Authorized()`: any caller. */
export const authChecker: AuthChecker<Context, string> = ({ context }, roles) => roles.length === 0 || roles.includes(context.principal.role);
