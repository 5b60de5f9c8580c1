import { Member } from '../../members/member.entity';
import { Tier } from '../../members/tier.entity';
import { LedgerEntry, LotAllocation, PointsLot, Purchase, PurchaseReversal } from '../../ledger/ledger.entity';
import { EarningRule } from '../../ledger/earning-rule.entity';
import { ProgramSettings, ProgramSettingsAudit, StatsDaily } from '../../program/program.entity';
import { ExpiryWarningSent } from '../../program/expiry-warning.entity';
import { Challenge, ChallengeProgress, CheckIn, Referral, Task, TaskCompletion } from '../../tasks/tasks.entity';
import { Notification } from '../../notifications/notification.entity';
import { CatalogItem, Coupon, MemberVip, Redemption } from '../../catalog/catalog.entity';
import { RankSnapshot } from '../../leaderboard/rank-snapshot.entity';
import { Experiment, ExperimentConversion, ExperimentEvent, ExperimentExposure, ExperimentExposureTally, ExperimentMetricTally } from '../../experiments/experiment.entity';
import { CoRedemption, ItemDailyRedemptions, ItemRedeemers, MemberCountedItem } from '../../recommendations/recommendation.entity';
import { PartnerCall } from '../../partners/partner-call.entity';

/** Every persisted entity, by domain. */
export const ENTITIES = [Member, Tier, LedgerEntry, PointsLot, LotAllocation, Purchase, PurchaseReversal, EarningRule, ProgramSettings, Notification, CatalogItem, Redemption, Coupon, MemberVip, RankSnapshot, ProgramSettingsAudit, StatsDaily, ExpiryWarningSent, Task, TaskCompletion, CheckIn, Challenge, ChallengeProgress, Referral, Experiment, ExperimentExposure, ExperimentEvent, ExperimentConversion, ExperimentExposureTally, ExperimentMetricTally, CoRedemption, ItemRedeemers, ItemDailyRedemptions, MemberCountedItem, PartnerCall];
