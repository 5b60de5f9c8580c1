import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { DAY_MS } from '../platform/time';
import type { ProgramService } from '../program/program.service';

const WINDOW_DAYS = 30;

export interface CapsReport {
  dailyCap: number | null;
  monthlyCap: number | null;
  /** Rewards the caps cut (to fewer or 0 points) in the last 30 days, and the points they held back. */
  capped30d: number;
  pointsCapped30d: number;
  bySource: { source: string; points: string }[];
  /** The same for purchases (purchaseDailyCap / purchaseMonthlyCap; uncapped by default). */
  purchases: { dailyCap: number | null; monthlyCap: number | null; capped30d: number; pointsCapped30d: number };
}

/**
 * Cost control (seed §4.4): points given away in the last 30 days per source (purchases,
 * rewards, referrals, tier bonuses, adjustments) against the earning caps. Read on demand by
 * the admins' programStats fields that ask for it: it sums 30 days of credits (an index range
 * on posted_at), so the live dashboard's own figures stay on the rolled-up days.
 */
export class CapsService {
  constructor(private readonly deps: { clock: Clock; program: ProgramService }) {}

  async report(em: EntityManager): Promise<CapsReport> {
    const since = new Date(this.deps.clock.now().getTime() - WINDOW_DAYS * DAY_MS);
    const [settings, bySource, hits] = await Promise.all([
      this.deps.program.settings(em),
      em.execute<{ source: string; points: string }[]>(
        `select case type when 'PURCHASE' then 'purchase' when 'ADJUSTMENT' then 'adjustment' else source end as source, sum(delta)::text as points
         from ledger_entry where status = 'POSTED' and delta > 0 and type in ('PURCHASE', 'REWARD', 'ADJUSTMENT') and posted_at >= ?
         group by 1 order by 1`,
        [since],
      ),
      em.execute<{ hits: number; points: number; type: string }[]>(
        'select count(*)::int as hits, coalesce(sum(requested - granted), 0)::int as points, type from reward_cap_hit where created_at >= ? group by type',
        [since],
      ),
    ]);
    const capped = (type: string) => hits.find((h) => h.type === type) ?? { hits: 0, points: 0 };
    return {
      dailyCap: settings.rewardDailyCap,
      monthlyCap: settings.rewardMonthlyCap,
      capped30d: capped('REWARD').hits,
      pointsCapped30d: capped('REWARD').points,
      bySource,
      purchases: { dailyCap: settings.purchaseDailyCap, monthlyCap: settings.purchaseMonthlyCap, capped30d: capped('PURCHASE').hits, pointsCapped30d: capped('PURCHASE').points },
    };
  }
}
