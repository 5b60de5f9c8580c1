import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from './auth/principal';
import type { Logger } from './platform/logger';
import type { Clock } from './platform/clock';
import type { Config } from './platform/config';
import type { OperationAware } from './platform/graphql/operation-type';
import { memberLoaders } from './members/member.loaders';
import type { MemberService } from './members/member.service';
import { ledgerLoaders } from './ledger/ledger.loaders';
import type { LedgerService } from './ledger/ledger.service';
import type { LedgerHistoryService } from './ledger/ledger-history.service';
import type { EarningRuleService } from './ledger/earning-rule.service';
import type { ProgramService } from './program/program.service';
import type { NotificationService } from './notifications/notification.service';
import { catalogLoaders } from './catalog/catalog.loaders';
import type { CatalogService } from './catalog/catalog.service';
import type { RedemptionService } from './catalog/redemption.service';
import type { FlashSaleGate } from './catalog/flash-sale.gate';
import type { LedgerEvents } from './ledger/ledger.events';
import type { LeaderboardStore } from './leaderboard/leaderboard.store';
import type { LeaderboardRebuild } from './leaderboard/leaderboard.rebuild';
import type { RankSnapshotService } from './leaderboard/rank-snapshot.service';
import type { LeaderboardFeed } from './leaderboard/leaderboard.feed';
import type { StatsService } from './program/stats.service';
import type { StatsFeed } from './program/stats.feed';
import type { ProgramHealthService } from './program/health.service';
import type { TaskService } from './tasks/tasks.service';
import type { CheckInService } from './tasks/checkin.service';
import type { ChallengeService } from './tasks/challenge.service';
import type { ReferralService } from './tasks/referral.service';
import type { ExperimentService } from './experiments';
import type { RecommendationService } from './recommendations/recommendation.service';
import type { PartnerCallService } from './partners/partner.service';
import type { TierLifecycleService } from './lifecycle/tier.service';
import type { SegmentService } from './lifecycle/segment.service';
import type { CapsService } from './lifecycle/caps.service';

/** The application's use cases, built once in app.ts. */
export interface Services {
  members: MemberService;
  ledger: LedgerService;
  ledgerHistory: LedgerHistoryService;
  earningRules: EarningRuleService;
  program: ProgramService;
  notifications: NotificationService;
  catalog: CatalogService;
  redemptions: RedemptionService;
  flashGate: FlashSaleGate;
  events: LedgerEvents;
  leaderboard: LeaderboardStore;
  leaderboardRebuild: LeaderboardRebuild;
  rankSnapshots: RankSnapshotService;
  stats: StatsService;
  leaderboardFeed: LeaderboardFeed;
  statsFeed: StatsFeed;
  health: ProgramHealthService;
  tasks: TaskService;
  checkIns: CheckInService;
  challenges: ChallengeService;
  referrals: ReferralService;
  experiments: ExperimentService;
  recommendations: RecommendationService;
  partnerCalls: PartnerCallService;
  tiers: TierLifecycleService;
  segments: SegmentService;
  caps: CapsService;
}

/** `readsMayLag`: asked at read time, true only once the operation is known to be a query. */
export function createLoaders(em: EntityManager, clock: Clock, services: Services, readsMayLag: () => boolean = () => false) {
  return {
    ...memberLoaders(em, services.members.tierCache, clock),
    ...ledgerLoaders(em, clock, services.ledgerHistory, readsMayLag),
    ...catalogLoaders(em, clock, services.redemptions),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;

/** What every resolver gets: who calls, a forked EntityManager, and per-request loaders. */
export interface Context extends OperationAware {
  principal: Principal;
  em: EntityManager;
  loaders: Loaders;
  services: Services;
  config: Config;
  clock: Clock;
  requestId: string;
  log: Logger;
}

/** What every request context shares: built once per process. */
export interface ContextDeps {
  orm: MikroORM;
  services: Services;
  config: Config;
  clock: Clock;
  log: Logger;
}

/**
 * A request's context whose EntityManager, loaders and child logger are built on first use
 * (issue 14). They are getters on the PROTOTYPE on purpose: Apollo copies the context per
 * operation with `Object.assign(Object.create(proto), context)`, which reads every own
 * enumerable property; a getter defined on the object itself would be called by that copy, so
 * every request forked an EntityManager (each fork writes process.env), built every DataLoader
 * and a child logger even for `{ __typename }`. The copy shares the prototype, so the getters
 * stay lazy there, and each copy caches what it built in its own fields.
 */
export class RequestContext implements Context {
  readonly operation: Context['operation'] = { type: null };
  readonly services: Services;
  readonly config: Config;
  readonly clock: Clock;
  private builtEm: EntityManager | undefined = undefined;
  private builtLoaders: Loaders | undefined = undefined;
  private builtLog: Logger | undefined = undefined;

  constructor(
    readonly principal: Principal,
    readonly requestId: string,
    private readonly deps: ContextDeps,
  ) {
    this.services = deps.services;
    this.config = deps.config;
    this.clock = deps.clock;
  }

  get em(): EntityManager {
    return (this.builtEm ??= this.deps.orm.em.fork());
  }

  get loaders(): Loaders {
    const operation = this.operation;
    return (this.builtLoaders ??= createLoaders(this.em, this.clock, this.services, () => operation.type === 'query'));
  }

  get log(): Logger {
    return (this.builtLog ??= this.deps.log.child({ requestId: this.requestId }));
  }
}
