import type { MikroORM } from '@mikro-orm/postgresql';
import type { PubSub } from 'type-graphql';
import type { Clock } from '../platform/clock';
import { DAY_MS } from '../platform/time';
import { daysUntil } from '../ledger/ledger.rules';
import type { ProgramService } from '../program/program.service';
import { EXPIRY_WARNING_TOPIC, type ExpiryWarningPayload } from '../program/program.topics';
import { expiryWarningText, expiryWarningTitle } from '../notifications/notification.texts';
import { transact } from '../platform/db/unit-of-work';
import { executeBound } from '../platform/db/bound';
import { publishAll } from '../realtime/pubsub';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Members per batch, measured with `npm run bench -- jobs` at 200k (BENCH_JOBS_WARNING_BATCH):
 * 1,000 / 2,000 / 5,000 gave the job 1.02 / 0.91 / 0.66 of its same-run baseline, and the bare
 * statements themselves got no faster per lot above 2,000 (a bigger claim insert, a longer lock).
 */
export const WARNING_BATCH_MEMBERS = 2000;

export interface WarningRunResult {
  warnings: number;
  lots: number;
  batches: number;
}

/**
 * One batch, one statement: the next members (keyset on member id) with live lots inside the
 * widest window; each such lot's band, the tightest threshold it is inside; the claims of the
 * lots not yet claimed at their band; and, per member and band, what was claimed. Always one
 * row at least (the batch's size and last member), so an empty batch still moves the cursor.
 *
 * The member walk reads points_lot_member_idx in member order (LIMIT makes it stop after the
 * batch), and each member's lots are read by the same index through the lateral join (OFFSET 0
 * keeps it a per-member index lookup: flattened, the planner hashes the whole window instead,
 * 400,000 lots per batch at 1M). No anti-join against expiry_warning: ON CONFLICT probes its
 * primary key anyway, and a conflicting claim inserts nothing and fires no foreign-key check.
 * Claims are inserted in (lot, threshold) order, the one order of every runner, so two runners
 * never wait on each other in a cycle.
 */
export const CLAIM_BATCH_SQL = `with batch as (
    select distinct l.member_id from points_lot l
    where l.member_id > ? and l.expires_at > ? and l.expires_at <= ? and l.remaining > 0
    order by l.member_id limit ?
  ), candidates as (
    select l.id, l.member_id, l.remaining, l.expires_at,
           (select min(t.days) from unnest(?::int[], ?::timestamptz[]) as t(days, bound) where l.expires_at <= t.bound) as band
    from batch b cross join lateral (
      select l.id, l.member_id, l.remaining, l.expires_at from points_lot l
      where l.member_id = b.member_id and l.expires_at > ? and l.expires_at <= ? and l.remaining > 0
      offset 0
    ) l
  ), claimed as (
    insert into expiry_warning (lot_id, threshold, member_id, warned_at)
    select c.id, c.band, c.member_id, ? from candidates c
    order by c.id, c.band
    on conflict do nothing
    returning lot_id, threshold
  ), warned as (
    select c.member_id, c.band, sum(c.remaining)::int as points, count(*)::int as lots, min(c.expires_at) as earliest
    from candidates c join claimed x on x.lot_id = c.id and x.threshold = c.band
    group by c.member_id, c.band
  )
  select s.members, s.last, w.member_id, w.band, w.points, w.lots, w.earliest,
         (select m.language from member m where m.id = w.member_id) as language
  from (select count(*)::int as members, (array_agg(member_id order by member_id desc))[1] as last from batch) s
  left join warned w on true`;

export interface ClaimRow {
  members: number;
  last: string | null;
  member_id: string | null;
  band: number;
  points: number;
  lots: number;
  earliest: string | Date;
  language: string;
}

/** The notifications of one batch, from a JSON array built by `warningsOf`. Parameters: now, the JSON. */
export const NOTIFY_SQL = `insert into notification (id, member_id, kind, title, body, data, created_at)
  select gen_random_uuid(), n.member_id, 'EXPIRY_WARNING', n.title, n.body, n.data, ?
  from jsonb_to_recordset(?::jsonb) as n(member_id uuid, title text, body text, data jsonb)`;

/** Postgres array literal of plain values (numbers, ISO timestamps): bound as one text parameter. */
const pgArray = (values: (number | string)[]) => `{${values.join(',')}}`;

/**
 * A run's bounds and the parameters of CLAIM_BATCH_SQL for a batch after `cursor`. The bounds
 * are computed here, in the program's milliseconds (a day is DAY_MS, as daysUntil counts).
 * Exported with the SQL for the bench's baseline, which runs the same statements on bare pg.
 */
export function claimPlan(now: Date, reminderDays: number[]) {
  const thresholds = [...reminderDays].sort((a, b) => a - b);
  const bounds = thresholds.map((t) => new Date(now.getTime() + t * DAY_MS));
  const until = bounds[bounds.length - 1];
  const days = pgArray(thresholds);
  const boundList = pgArray(bounds.map((b) => b.toISOString()));
  return {
    thresholds,
    params: (cursor: string, batchSize: number) => [cursor, now, until, batchSize, days, boundList, now, until, now],
  };
}

/** A batch's claimed (member, band) rows as live payloads and as the JSON NOTIFY_SQL inserts. */
export function warningsOf(rows: ClaimRow[], now: Date): { payloads: ExpiryWarningPayload[]; notifications: string; lots: number } {
  const payloads: ExpiryWarningPayload[] = [];
  const notifications: object[] = [];
  let lots = 0;
  for (const w of rows) {
    if (w.member_id === null) continue;
    const expiresAt = new Date(w.earliest);
    const daysLeft = daysUntil(now, expiresAt);
    const payload: ExpiryWarningPayload = { memberId: w.member_id, points: w.points, expiresAt: expiresAt.toISOString(), daysLeft, message: expiryWarningText(w.points, daysLeft, w.language) };
    payloads.push(payload);
    notifications.push({
      member_id: w.member_id,
      title: expiryWarningTitle(w.language),
      body: payload.message,
      data: { points: w.points, expiresAt: payload.expiresAt, daysLeft, threshold: w.band },
    });
    lots += w.lots;
  }
  return { payloads, notifications: JSON.stringify(notifications), lots };
}

/**
 * Warns members before their points expire, at each of the program's reminderDays. A lot is
 * claimed at a threshold by inserting (lot, threshold) into expiry_warning: the primary key
 * makes a second claim — a second run, a second instance — impossible, so no member is warned
 * twice for the same lot and threshold.
 *
 * One pass over all thresholds: each lot is claimed at its band only, the tightest threshold it
 * is inside, so a lot first seen 2 days before expiry gets one warning (at 3 days), not one per
 * threshold. A lot's band only tightens as time moves on, so a wider threshold is never asked
 * about again for it; the tighter one fires once when the lot crosses it. A member gets one
 * notification per band that holds newly claimed lots: their summed points, earliest expiry.
 * Members are walked in keyset batches, so memory stays flat however many lots there are.
 */
export class ExpiryWarningJob {
  readonly name = 'expiry-warning';

  constructor(private readonly deps: { orm: MikroORM; clock: Clock; pubSub: PubSub; program: ProgramService; batchSize?: number }) {}

  async run(stop?: AbortSignal): Promise<WarningRunResult> {
    const now = this.deps.clock.now();
    const batchSize = this.deps.batchSize ?? WARNING_BATCH_MEMBERS;
    const settings = await this.deps.program.settings(this.deps.orm.em.fork());
    const plan = claimPlan(now, settings.reminderDays);
    const result: WarningRunResult = { warnings: 0, lots: 0, batches: 0 };
    if (plan.thresholds.length === 0) return result;

    let cursor = NIL_UUID;
    for (;;) {
      if (stop?.aborted) return result;
      const em = this.deps.orm.em.fork();
      const { members, last, payloads, lots } = await transact(em, async ({ tx, afterCommit }) => {
        const rows = await tx.execute<ClaimRow[]>(CLAIM_BATCH_SQL, plan.params(cursor, batchSize));
        const batch = warningsOf(rows, now);
        // Bound, not inlined: the JSON is the batch's largest value (see executeBound).
        if (batch.payloads.length) await executeBound(tx, NOTIFY_SQL, [now, batch.notifications]);
        // After commit only: a member is told what the database already says.
        // The batch's warnings together: one pipeline on Redis, each member's in claim order.
        afterCommit(() =>
          publishAll(
            this.deps.pubSub,
            batch.payloads.map((payload) => ({ routingKey: EXPIRY_WARNING_TOPIC, payload, dynamicId: payload.memberId })),
          ),
        );
        return { members: rows[0].members, last: rows[0].last, payloads: batch.payloads, lots: batch.lots };
      });
      result.warnings += payloads.length;
      result.lots += lots;
      result.batches += 1;
      if (members < batchSize || last === null) break;
      cursor = last;
    }
    return result;
  }
}
