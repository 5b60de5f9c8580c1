import type { EntityManager } from '@mikro-orm/postgresql';
import { transact } from '../platform/db/unit-of-work';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { DAY_MS, localDate } from '../platform/time';
import { SEGMENT_KEYS, segmentOf } from '../members/segment.rules';

/** The RFM window (seed 001 §3.1: purchases of the last 90 days). */
export const RFM_WINDOW_DAYS = 90;
/** A run that started this long ago and never finished may be taken over by another instance. */
const STALE_RUN_MS = 15 * 60_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface RfmRunResult {
  ran: boolean;
  active: number;
  changed: number;
  batches: number;
}

/**
 * Scores every member active in the last 90 days. Set-based in PostgreSQL: per member
 * recency (days since the last posted purchase), frequency (posted purchases) and monetary
 * (their amount less refunds); each a quintile 1..5 as ceil(5 × cume_dist) over the active
 * population (see segment.rules quintile), so ties share a score and a run is deterministic.
 */
const STAGE_SQL = `
  with active as (
    select p.member_id,
           floor(extract(epoch from (? - max(p.occurred_at))) / 86400)::int as recency_days,
           count(*)::int as frequency,
           sum(p.amount - p.refunded_amount) as monetary
    from purchase p join ledger_entry e on e.id = p.entry_id and (e.status = 'POSTED' or p.points_capped_from is not null)
    where p.occurred_at > ? and p.occurred_at <= ?
    group by p.member_id
  )
  insert into member_rfm (member_id, recency_days, frequency, monetary, r, f, m, segment, computed_at)
  select member_id, recency_days, frequency, monetary,
         least(5, greatest(1, ceil(5 * cume_dist() over (order by recency_days desc))))::int,
         least(5, greatest(1, ceil(5 * cume_dist() over (order by frequency))))::int,
         least(5, greatest(1, ceil(5 * cume_dist() over (order by monetary))))::int,
         '', ?
  from active`;

/**
 * RFM segments (issue 17): the daily job's steps, and the admins' segment statistics.
 * A run is claimed per local day (rfm_run), so one instance computes it; its batches write
 * only changes (member.segment, and one segment_change row per change: the history), so a
 * repeated or taken-over run writes nothing twice.
 */
export class SegmentService {
  constructor(private readonly deps: { clock: Clock; timeZone: string }) {}

  async run(em: EntityManager, batchSize = 2000, options: { force?: boolean } = {}): Promise<RfmRunResult> {
    const now = this.deps.clock.now();
    const day = localDate(now, this.deps.timeZone);
    const result: RfmRunResult = { ran: false, active: 0, changed: 0, batches: 0 };
    const [claimed] = await em.execute<{ day: string }[]>(
      `insert into rfm_run (day, started_at) values (?, ?)
       on conflict (day) do update set started_at = excluded.started_at, finished_at = null
       where ? or (rfm_run.finished_at is null and rfm_run.started_at < ?)
       returning day`,
      [day, now, options.force ?? false, new Date(now.getTime() - STALE_RUN_MS)],
    );
    if (!claimed) return result;
    result.ran = true;

    await transact(em, async ({ tx }) => {
      await tx.execute('delete from member_rfm');
      await tx.execute(STAGE_SQL, [now, new Date(now.getTime() - RFM_WINDOW_DAYS * DAY_MS), now, now]);
    });

    // Members scored now, in keyset batches: segment by the rules, write what changed.
    for (let cursor = NIL_UUID; ;) {
      const batch = await transact(em, async ({ tx }) => {
        const rows = await tx.execute<{ member_id: string; r: number; f: number; m: number; joined_at: string; segment: string | null }[]>(
          // The batch first (a range of member_rfm's key), then its members by primary key.
          `with b as (select member_id, r, f, m from member_rfm where member_id > ? order by member_id limit ?)
           select b.member_id, b.r, b.f, b.m, m.joined_at, m.segment from b join member m on m.id = b.member_id order by b.member_id`,
          [cursor, batchSize],
        );
        if (rows.length === 0) return rows;
        const assigned = rows.map((row) => ({
          member_id: row.member_id,
          previous: row.segment,
          segment: segmentOf(row, Math.floor((now.getTime() - new Date(row.joined_at).getTime()) / DAY_MS)),
        }));
        await tx.execute(`update member_rfm x set segment = a.segment from jsonb_to_recordset(?::jsonb) as a(member_id uuid, segment text) where x.member_id = a.member_id`, [
          JSON.stringify(assigned),
        ]);
        result.changed += await this.writeChanges(
          tx,
          assigned.filter((a) => a.segment !== a.previous),
          now,
        );
        return rows;
      });
      result.active += batch.length;
      if (batch.length === 0) break;
      result.batches += 1;
      cursor = batch[batch.length - 1].member_id;
      if (batch.length < batchSize) break;
    }

    // Members no longer active leave their segment (null: no purchase in 90 days).
    for (;;) {
      const left = await transact(em, async ({ tx }) => {
        const rows = await tx.execute<{ member_id: string; previous: string }[]>(
          `select m.id as member_id, m.segment as previous from member m
           where m.segment is not null and not exists (select 1 from member_rfm x where x.member_id = m.id)
           order by m.id limit ? for update skip locked`,
          [batchSize],
        );
        return this.writeChanges(
          tx,
          rows.map((r) => ({ ...r, segment: null })),
          now,
        );
      });
      result.changed += left;
      if (left < batchSize) break;
    }
    await em.execute('update rfm_run set finished_at = ?, members = ? where day = ?', [this.deps.clock.now(), result.active, day]);
    return result;
  }

  private async writeChanges(tx: EntityManager, changes: { member_id: string; previous: string | null; segment: string | null }[], now: Date): Promise<number> {
    if (changes.length === 0) return 0;
    const json = JSON.stringify(changes);
    await tx.execute(`update member m set segment = c.segment from jsonb_to_recordset(?::jsonb) as c(member_id uuid, segment text) where m.id = c.member_id`, [json]);
    await tx.execute(
      `insert into segment_change (member_id, segment, previous, changed_at)
       select c.member_id, c.segment, c.previous, ? from jsonb_to_recordset(?::jsonb) as c(member_id uuid, segment text, previous text)`,
      [now, json],
    );
    return changes.length;
  }

  /** segments (admins): all five, in a stable order, with their members, average 90-day spend and share of 90-day points earned. */
  async stats(em: EntityManager): Promise<{ name: string; members: number; averageSpend: Decimal; pointsShare: number }[]> {
    const since = new Date(this.deps.clock.now().getTime() - RFM_WINDOW_DAYS * DAY_MS);
    const rows = await em.execute<{ segment: string; members: number; average: string | null; points: string }[]>(
      `with earned as (
         select member_id, sum(delta) as points from ledger_entry
         where type in ('PURCHASE', 'REWARD') and status = 'POSTED' and created_at > ? group by member_id
       )
       select m.segment, count(*)::int as members, avg(x.monetary)::numeric(14,2)::text as average, coalesce(sum(e.points), 0)::text as points
       from member m left join member_rfm x on x.member_id = m.id left join earned e on e.member_id = m.id
       where m.segment is not null group by m.segment`,
      [since],
    );
    const [{ total }] = await em.execute<{ total: string }[]>(
      `select coalesce(sum(delta), 0)::text as total from ledger_entry where type in ('PURCHASE', 'REWARD') and status = 'POSTED' and created_at > ?`,
      [since],
    );
    const bySegment = new Map(rows.map((r) => [r.segment, r]));
    return SEGMENT_KEYS.map((name) => {
      const row = bySegment.get(name);
      const points = Number(row?.points ?? 0);
      return {
        name,
        members: row?.members ?? 0,
        averageSpend: new Decimal(row?.average ?? 0),
        pointsShare: Number(total) > 0 ? points / Number(total) : 0,
      };
    });
  }
}
