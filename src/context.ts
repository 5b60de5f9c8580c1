import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from './auth/principal';
import type { Logger } from './platform/logger';
import type { Clock } from './platform/clock';
import type { Config } from './platform/config';
import { memberLoaders } from './members/member.loaders';
import type { MemberService } from './members/member.service';

/** The application's use cases, built once in app.ts. */
export interface Services {
  members: MemberService;
}

export function createLoaders(em: EntityManager) {
  return { ...memberLoaders(em) };
}
export type Loaders = ReturnType<typeof createLoaders>;

/** What every resolver gets: who calls, a forked EntityManager, and per-request loaders. */
export interface Context {
  principal: Principal;
  em: EntityManager;
  loaders: Loaders;
  services: Services;
  config: Config;
  clock: Clock;
  requestId: string;
  log: Logger;
}
