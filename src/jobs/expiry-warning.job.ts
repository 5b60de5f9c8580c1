import type { MikroORM } from '@mikro-orm/postgresql';
import type { PubSub } from 'type-graphql';
import type { Clock } from '../platform/clock';
import { DAY_MS } from '../platform/time';
import { daysUntil } from '../ledger/ledger.rules';
import type { ProgramService } from '../program/program.service';
import { EXPIRY_WARNING_TOPIC, type ExpiryWarningPayload } from '../program/program.topics';
import { expiryWarningText, expiryWarningTitle } from '../notifications/notification.texts';
import { transact } from '../platform/db/unit-of-work';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface WarningRunResult {
  warnings: number;
  lots: number;
  batches: number;
}

/**
 * Warns members before their points expire, at each of the program's reminderDays. A lot is
 * claimed per threshold by inserting (lot, threshold) into expiry_warning: the primary key
 * makes a second claim — a second run, a second instance — impossible, so no member is
 * warned twice for the same lot and threshold. Tighter thresholds go first and also claim the
 * wider ones, so a lot first seen 2 days before expiry gets one warning, not one per threshold.
 * Members are walked in keyset batches, so memory stays flat however many lots there are.
 */
export class ExpiryWarningJob {
  readonly name = 'expiry-warning';

  constructor(
    private readonly deps: { orm: MikroORM; clock: Clock; pubSub: PubSub; program: ProgramService; batchSize?: number },
  ) {}

  async run(stop?: AbortSignal): Promise<WarningRunResult> {
    const now = this.deps.clock.now();
    const batchSize = this.deps.batchSize ?? 1000;
    const settings = await this.deps.program.settings(this.deps.orm.em.fork());
    const thresholds = [...settings.reminderDays].sort((a, b) => a - b);
    const result: WarningRunResult = { warnings: 0, lots: 0, batches: 0 };

    for (const threshold of thresholds) {
      const until = new Date(now.getTime() + threshold * DAY_MS);
      const claims = thresholds.filter((t) => t >= threshold);
      let cursor = NIL_UUID;
      for (;;) {
        if (stop?.aborted) return result;
        const em = this.deps.orm.em.fork();
        const members = await em.execute<{ member_id: string }[]>(
          `select distinct l.member_id from points_lot l
           where l.remaining > 0 and l.expires_at > ? and l.expires_at <= ? and l.member_id > ?
             and not exists (select 1 from expiry_warning w where w.lot_id = l.id and w.threshold = ?)
           order by l.member_id limit ?`,
          [now, until, cursor, threshold, batchSize],
        );
        if (members.length === 0) break;
        cursor = members[members.length - 1].member_id;
        const ids = JSON.stringify(members.map((m) => m.member_id));

        const warnings = await transact(em, async ({ tx, afterCommit }) => {
          const warned = await tx.execute<{ member_id: string; points: number; lots: number; earliest: string; language: string }[]>(
            `with candidates as (
               select l.id, l.member_id, l.remaining, l.expires_at from points_lot l
               where l.member_id in (select jsonb_array_elements_text(?::jsonb)::uuid)
                 and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?
                 and not exists (select 1 from expiry_warning w where w.lot_id = l.id and w.threshold = ?)
             ), claimed as (
               insert into expiry_warning (lot_id, threshold, member_id, warned_at)
               select c.id, t.threshold::int, c.member_id, ? from candidates c cross join jsonb_array_elements_text(?::jsonb) as t(threshold)
               -- One order for every runner's claims, so two runners never wait on each other in a cycle.
               order by c.id, t.threshold::int
               on conflict do nothing
               returning lot_id, threshold
             )
             select c.member_id, sum(c.remaining)::int as points, count(*)::int as lots, min(c.expires_at) as earliest, m.language
             from candidates c join member m on m.id = c.member_id
             where exists (select 1 from claimed x where x.lot_id = c.id and x.threshold = ?)
             group by c.member_id, m.language`,
            [ids, now, until, threshold, now, JSON.stringify(claims), threshold],
          );
          const payloads: ExpiryWarningPayload[] = warned.map((w) => {
            const expiresAt = new Date(w.earliest);
            const daysLeft = daysUntil(now, expiresAt);
            return { memberId: w.member_id, points: w.points, expiresAt: expiresAt.toISOString(), daysLeft, message: expiryWarningText(w.points, daysLeft, w.language) };
          });
          if (payloads.length) {
            await tx.execute(
              `insert into notification (id, member_id, kind, title, body, data, created_at)
               select gen_random_uuid(), n.member_id, 'EXPIRY_WARNING', n.title, n.body, n.data, ? from jsonb_to_recordset(?::jsonb) as n(member_id uuid, title text, body text, data jsonb)`,
              [
                now,
                JSON.stringify(
                  payloads.map((p, i) => ({
                    member_id: p.memberId,
                    title: expiryWarningTitle(warned[i].language),
                    body: p.message,
                    data: { points: p.points, expiresAt: p.expiresAt, daysLeft: p.daysLeft, threshold },
                  })),
                ),
              ],
            );
          }
          result.lots += warned.reduce((sum, w) => sum + w.lots, 0);
          // After commit only: a member is told what the database already says.
          afterCommit(() => {
            for (const payload of payloads) this.deps.pubSub.publish(EXPIRY_WARNING_TOPIC, payload, payload.memberId);
          });
          return payloads;
        });
        result.warnings += warnings.length;
        result.batches += 1;
        if (members.length < batchSize) break;
      }
    }
    return result;
  }
}
