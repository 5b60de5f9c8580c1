import type { EntityManager } from '@mikro-orm/postgresql';
import { lagTolerant, primary, type SqlReader } from '../platform/db/replicas';
import { addLocalDays, DAY_MS, localDate, startOfLocalDay } from '../platform/time';

export interface ProgramStatsValue {
  members: number;
  activeMembers30d: number;
  outstandingPoints: bigint;
  pointsIssued30d: bigint;
  pointsRedeemed30d: bigint;
  pointsExpired30d: bigint;
  redemptionRate: number;
  expiryRate: number;
  redemptions24h: number;
  at: Date;
}

interface Totals {
  issued: bigint;
  redeemed: bigint;
  expired: bigint;
}

export const STATS_WINDOW_DAYS = 30;

/**
 * Issued (earned and granted), redeemed (net of refunds) and expired points of entries posted in [from, to).
 * By posted_at, not created_at: a held credit approved days later counts on the day it is posted,
 * so a day once rolled up never changes (by created_at it would land in a closed day, uncounted).
 * Redeemed is net and may be negative for a day (a refund the day after its redemption): days are
 * summed first and the window's total is floored at 0, so rolled-up days add up to the live sum.
 */
const TOTALS_SQL = `
  select coalesce(sum(delta) filter (where type in ('PURCHASE', 'REWARD') or (type = 'ADJUSTMENT' and delta > 0)), 0)::text as issued,
         (coalesce(-sum(delta) filter (where type = 'REDEMPTION'), 0) - coalesce(sum(delta) filter (where type = 'REFUND'), 0))::text as redeemed,
         coalesce(-sum(delta) filter (where type = 'EXPIRY'), 0)::text as expired
  from ledger_entry where status = 'POSTED' and posted_at >= ? and posted_at < ?`;

/**
 * Program-wide figures for the ops dashboard. Closed days come from stats_daily (written once
 * by the stats job); only the days not rolled up yet — normally just today — are summed from
 * the ledger, so a call never scans 30 days of entries.
 */
export class StatsService {
  constructor(private readonly timeZone: string) {}

  /** Sums the ledger; the roll-up passes the primary (a closed day is written once and for all), compute a replica. */
  async totals(db: SqlReader, from: Date, to: Date): Promise<Totals> {
    const [row] = await db.execute<{ issued: string; redeemed: string; expired: string }[]>(TOTALS_SQL, [from, to]);
    return { issued: BigInt(row.issued), redeemed: BigInt(row.redeemed), expired: BigInt(row.expired) };
  }

  /** The local days of the window before today, oldest first. */
  windowDays(now: Date): { day: string; start: Date }[] {
    const today = startOfLocalDay(now, this.timeZone);
    return Array.from({ length: STATS_WINDOW_DAYS - 1 }, (_, i) => {
      const start = addLocalDays(today, i - (STATS_WINDOW_DAYS - 1), this.timeZone);
      return { day: localDate(start, this.timeZone), start };
    });
  }

  /** The dashboard's figures: they may lag a few seconds, so they come from a read replica when there is one. */
  async compute(primary: EntityManager, now: Date): Promise<ProgramStatsValue> {
    const em = lagTolerant(primary);
    const days = this.windowDays(now);
    const rolled = await em.execute<{ day: string; issued: string; redeemed: string; expired: string }[]>(
      'select day, issued::text, redeemed::text, expired::text from stats_daily where day >= ? and day <= ?',
      [days[0].day, days[days.length - 1].day],
    );
    const byDay = new Map(rolled.map((r) => [r.day, r]));
    const firstMissing = days.find((d) => !byDay.has(d.day));
    const liveFrom = firstMissing?.start ?? startOfLocalDay(now, this.timeZone);
    const totals = await this.totals(em, liveFrom, new Date(now.getTime() + 1));
    for (const d of days) {
      if (d.start >= liveFrom) break;
      const r = byDay.get(d.day)!;
      totals.issued += BigInt(r.issued);
      totals.redeemed += BigInt(r.redeemed);
      totals.expired += BigInt(r.expired);
    }
    const [row] = await em.execute<{ members: number; active: number; outstanding: string; redemptions: number }[]>(
      `select (select count(*) from member)::int as members,
              (select count(*) from member where last_active_at > ?)::int as active,
              (select coalesce(sum(balance), 0) from member)::text as outstanding,
              (select count(*) from redemption where created_at > ? and status <> 'CANCELLED')::int as redemptions`,
      [new Date(now.getTime() - STATS_WINDOW_DAYS * DAY_MS), new Date(now.getTime() - DAY_MS)],
    );
    if (totals.redeemed < 0n) totals.redeemed = 0n;
    const rate = (part: bigint) => (totals.issued > 0n ? Math.round((Number(part) / Number(totals.issued)) * 10_000) / 10_000 : 0);
    return {
      members: row.members,
      activeMembers30d: row.active,
      outstandingPoints: BigInt(row.outstanding),
      pointsIssued30d: totals.issued,
      pointsRedeemed30d: totals.redeemed,
      pointsExpired30d: totals.expired,
      redemptionRate: rate(totals.redeemed),
      expiryRate: rate(totals.expired),
      redemptions24h: row.redemptions,
      at: now,
    };
  }

  /** Rolls up every closed day of the window that is not rolled up yet; safe to run anywhere, any number of times. */
  async rollUp(em: EntityManager, now: Date): Promise<number> {
    const days = this.windowDays(now);
    const existing = new Set((await em.execute<{ day: string }[]>('select day from stats_daily where day >= ?', [days[0].day])).map((r) => r.day));
    let written = 0;
    for (const d of days) {
      if (existing.has(d.day)) continue;
      const totals = await this.totals(primary(em), d.start, addLocalDays(d.start, 1, this.timeZone));
      await em.execute('insert into stats_daily (day, issued, redeemed, expired, computed_at) values (?, ?, ?, ?, ?) on conflict (day) do nothing', [
        d.day,
        totals.issued.toString(),
        totals.redeemed.toString(),
        totals.expired.toString(),
        now,
      ]);
      written += 1;
    }
    return written;
  }
}
