import type { EntityManager } from '@mikro-orm/postgresql';
import type { Principal } from './auth/principal';
import type { Logger } from './platform/logger';
import type { Clock } from './platform/clock';
import type { Config } from './platform/config';
import type { OperationAware } from './platform/graphql/operation-type';
import { memberLoaders } from './members/member.loaders';
import type { MemberService } from './members/member.service';
import { ledgerLoaders } from './ledger/ledger.loaders';
import type { LedgerService } from './ledger/ledger.service';
import type { EarningRuleService } from './ledger/earning-rule.service';
import type { ProgramService } from './program/program.service';
import type { NotificationService } from './notifications/notification.service';
import { catalogLoaders } from './catalog/catalog.loaders';
import type { CatalogService } from './catalog/catalog.service';
import type { RedemptionService } from './catalog/redemption.service';
import type { FlashSaleGate } from './catalog/flash-sale.gate';
import type { LedgerEvents } from './ledger/ledger.events';
import type { LeaderboardService } from './leaderboard/leaderboard.service';
import type { LeaderboardFeed } from './leaderboard/leaderboard.feed';
import type { StatsService } from './program/stats.service';
import type { StatsFeed } from './program/stats.feed';
import type { ProgramHealthService } from './program/health.service';
import type { GamificationService } from './tasks/tasks.service';
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
  earningRules: EarningRuleService;
  program: ProgramService;
  notifications: NotificationService;
  catalog: CatalogService;
  redemptions: RedemptionService;
  flashGate: FlashSaleGate;
  events: LedgerEvents;
  leaderboard: LeaderboardService;
  stats: StatsService;
  leaderboardFeed: LeaderboardFeed;
  statsFeed: StatsFeed;
  health: ProgramHealthService;
  gamification: GamificationService;
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
    ...ledgerLoaders(em, clock, services.ledger, readsMayLag),
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
