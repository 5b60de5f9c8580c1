import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { ProgramSettings, ProgramSettingsAudit } from './program.entity';
import { applyPatch, complianceViolations, settingsChanges, type SettingsPatch, type SettingsValues } from './program.rules';
import { transact } from '../platform/db/unit-of-work';
import { preparedFromKnex, runPrepared } from '../platform/db/prepared';

const SETTINGS_SQL = `
  select points_per_currency_unit::text as "pointsPerCurrencyUnit", validity_days as "validityDays", reminder_days as "reminderDays",
         earn_limit_per_hour as "earnLimitPerHour", review_threshold_amount::text as "reviewThresholdAmount",
         redeem_limit_per_30min as "redeemLimitPer30Min", max_quantity_per_redemption as "maxQuantityPerRedemption",
         referral_inviter_points as "referralInviterPoints", referral_invitee_points as "referralInviteePoints",
         reward_daily_cap as "rewardDailyCap", reward_monthly_cap as "rewardMonthlyCap",
         purchase_daily_cap as "purchaseDailyCap", purchase_monthly_cap as "purchaseMonthlyCap"
  from program_settings where id = 1`;
/** Read before every money path: a named prepared statement (platform/db/prepared.ts, issue 14). */
const SETTINGS = preparedFromKnex('program.settings', SETTINGS_SQL);

const valuesOf = (s: ProgramSettings): SettingsValues => ({
  pointsPerCurrencyUnit: s.pointsPerCurrencyUnit,
  validityDays: s.validityDays,
  reminderDays: s.reminderDays,
  earnLimitPerHour: s.earnLimitPerHour,
  reviewThresholdAmount: s.reviewThresholdAmount,
  redeemLimitPer30Min: s.redeemLimitPer30Min,
  maxQuantityPerRedemption: s.maxQuantityPerRedemption,
  referralInviterPoints: s.referralInviterPoints,
  referralInviteePoints: s.referralInviteePoints,
  rewardDailyCap: s.rewardDailyCap,
  rewardMonthlyCap: s.rewardMonthlyCap,
  purchaseDailyCap: s.purchaseDailyCap,
  purchaseMonthlyCap: s.purchaseMonthlyCap,
});

/**
 * Program-wide settings. Every use case reads them from the database, so a change takes
 * effect at once on every instance, without a restart.
 */
export class ProgramService {
  constructor(private readonly clock: Clock) {}

  /**
   * The settings in force, as plain values: read on every use case (one indexed row, no
   * entity), so a change is seen at once everywhere.
   */
  async settings(em: EntityManager): Promise<SettingsValues> {
    const [row] = await runPrepared<SettingsValues>(em, SETTINGS, []);
    return row;
  }

  /** Validated, applied and audited in one transaction; an empty patch changes nothing. */
  async update(em: EntityManager, changedBy: string, patch: SettingsPatch): Promise<ProgramSettings> {
    return transact(em, async ({ tx }) => {
      const settings = await tx.findOneOrFail(ProgramSettings, { id: 1 }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      const before = valuesOf(settings);
      const result = applyPatch(before, patch);
      if ('problem' in result) throw new BadInputError(result.problem.message, result.problem.field);
      const changes = settingsChanges(before, result.next);
      if (Object.keys(changes).length === 0) return settings;
      const now = this.clock.now();
      Object.assign(settings, result.next, { updatedAt: now, updatedBy: changedBy });
      tx.create(ProgramSettingsAudit, { changedBy, changedAt: now, changes });
      return settings;
    });
  }

  /** Contract compliance: settings, plus members whose points expired with no warning sent for that lot. */
  async compliance(em: EntityManager): Promise<{ compliant: boolean; violations: string[] }> {
    const settings = await this.settings(em);
    const [{ unwarned }] = await em.execute<{ unwarned: number }[]>(
      `select count(distinct l.member_id)::int as unwarned
       from points_lot l
       where l.expired_at is not null
         and exists (select 1 from lot_allocation a join ledger_entry e on e.id = a.entry_id where a.lot_id = l.id and e.type = 'EXPIRY' and a.amount > 0)
         and not exists (select 1 from expiry_warning w where w.lot_id = l.id)`,
    );
    const violations = complianceViolations(settings, unwarned);
    return { compliant: violations.length === 0, violations };
  }
}
