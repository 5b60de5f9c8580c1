import type { EntityManager } from '@mikro-orm/postgresql';

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

const DAY_MS = 86_400_000;

/**
 * Program-wide figures for the ops dashboard. Only the last 30 days of the ledger are read
 * (by created_at, indexed); outstanding points come from the members' cached balances.
 */
export class StatsService {
  async compute(em: EntityManager, now: Date): Promise<ProgramStatsValue> {
    const since30 = new Date(now.getTime() - 30 * DAY_MS);
    const since24h = new Date(now.getTime() - DAY_MS);
    const [row] = await em.execute<
      { members: number; active: number; outstanding: string; issued: string; redeemed: string; expired: string; redemptions: number }[]
    >(
      `with recent as (
         select member_id, type, delta from ledger_entry where status = 'POSTED' and created_at > ?
       )
       select (select count(*) from member)::int as members,
              (select count(*) from member m where m.last_active_at > ?
                 or exists (select 1 from recent r where r.member_id = m.id and r.type <> 'EXPIRY'))::int as active,
              (select coalesce(sum(balance), 0) from member)::text as outstanding,
              (select coalesce(sum(delta), 0) from recent where type in ('PURCHASE', 'REWARD') or (type = 'ADJUSTMENT' and delta > 0))::text as issued,
              (select greatest(0, coalesce(-sum(delta) filter (where type = 'REDEMPTION'), 0) - coalesce(sum(delta) filter (where type = 'REFUND'), 0)) from recent)::text as redeemed,
              (select coalesce(-sum(delta), 0) from recent where type = 'EXPIRY')::text as expired,
              (select count(*) from redemption where created_at > ? and status <> 'CANCELLED')::int as redemptions`,
      [since30, since30, since24h],
    );
    const issued = BigInt(row.issued);
    const redeemed = BigInt(row.redeemed);
    const expired = BigInt(row.expired);
    const rate = (part: bigint) => (issued > 0n ? Math.round((Number(part) / Number(issued)) * 10_000) / 10_000 : 0);
    return {
      members: row.members,
      activeMembers30d: row.active,
      outstandingPoints: BigInt(row.outstanding),
      pointsIssued30d: issued,
      pointsRedeemed30d: redeemed,
      pointsExpired30d: expired,
      redemptionRate: rate(redeemed),
      expiryRate: rate(expired),
      redemptions24h: row.redemptions,
      at: now,
    };
  }
}
