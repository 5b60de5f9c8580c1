import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { retryOnUniqueViolation } from '../platform/db/orm';
import { transact } from '../platform/db/unit-of-work';
import { VersionedCache } from '../platform/db/config-version';
import type { LedgerWriter, LockedMember, PurchasePosted } from '../ledger';
import type { NotificationService } from '../notifications/notification.service';
import { NotificationKind } from '../notifications';
import { Challenge, ChallengeMetric } from './tasks.entity';
import { challengeIncrement } from './tasks.rules';
import type { MemberActed } from './tasks.events';
import { CODE, text } from './tasks.input';
import type { RewardService } from './reward.service';

export interface ChallengeFields {
  code: string;
  name: string;
  description?: string | null;
  metric: ChallengeMetric;
  target: number;
  rewardPoints: number;
  startsAt: Date;
  endsAt: Date;
}

type ChallengeEvent = { kind: 'purchase'; amount: Decimal } | { kind: 'check-in' } | { kind: 'task' };

/**
 * Challenges: admins define them; a member's progress moves with what it does (purchases, check-ins,
 * tasks: the events it listens to, wired in src/app.ts), inside that event's own transaction, and
 * crossing the target pays rewardPoints exactly once (completed_at is set under the member's lock).
 */
/** A challenge as the event path reads it (timestamps as pg returns them). */
interface ChallengeRow {
  id: string;
  code: string;
  name: string;
  metric: ChallengeMetric;
  target: string;
  reward_points: number;
  starts_at: Date | string;
  ends_at: Date | string;
}

export class ChallengeService {
  constructor(
    private readonly deps: {
      clock: Clock;
      timeZone: string;
      rewards: RewardService;
      notifications: NotificationService;
    },
  ) {}

  private readonly all = new VersionedCache<ChallengeRow[]>();

  /** Now, and the program's time zone: for callers that schedule by the program's calendar (the demo seed). */
  calendar(): { now: Date; timeZone: string } {
    return { now: this.deps.clock.now(), timeZone: this.deps.timeZone };
  }

  async upsertChallenge(em: EntityManager, input: ChallengeFields): Promise<Challenge> {
    const code = input.code.trim();
    if (!CODE.test(code)) throw new BadInputError('code must be 1 to 64 letters, digits, dots, dashes or underscores', 'code');
    const name = text(input.name, 'name', 64);
    const description = text(input.description, 'description', 500, false);
    // Stored with 2 decimals: a target that rounds to 0 (0.001) would break the table's check and surface as an internal error.
    const target = Number.isFinite(input.target) ? new Decimal(input.target).toDecimalPlaces(2) : null;
    if (!target || target.lte(0) || target.gt(1e12)) throw new BadInputError('target must be greater than 0 (at least 0.01) and at most 1000000000000', 'target');
    if (!Number.isInteger(input.rewardPoints) || input.rewardPoints < 1 || input.rewardPoints > 1_000_000) throw new BadInputError('rewardPoints must be 1 to 1000000', 'rewardPoints');
    if (input.endsAt <= input.startsAt) throw new BadInputError('endsAt must be after startsAt', 'endsAt');
    const write = () =>
      transact(em.fork(), async ({ tx }) => {
        const fields = {
          name,
          description,
          metric: input.metric,
          target: target.toFixed(2),
          rewardPoints: input.rewardPoints,
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          updatedAt: this.deps.clock.now(),
        };
        const challenge = await tx.findOne(Challenge, { code });
        if (challenge) return Object.assign(challenge, fields);
        return tx.create(Challenge, { code, ...fields });
      });
    // Two admins created the same new code at once: the loser finds it now and updates it.
    return retryOnUniqueViolation(['challenge_code_unique'], write);
  }

  /** Challenges running now, with the member's progress. */
  async challenges(em: EntityManager, memberId: string | null) {
    const now = this.deps.clock.now();
    const challenges = await em.find(Challenge, { startsAt: { $lte: now }, endsAt: { $gt: now } }, { orderBy: { endsAt: 'asc', code: 'asc' } });
    const progress =
      memberId && challenges.length
        ? await em.execute<{ challenge_id: string; current: string; completed_at: string | null }[]>(
            'select challenge_id, current, completed_at from challenge_progress where member_id = ? and challenge_id in (select jsonb_array_elements_text(?::jsonb)::uuid)',
            [memberId, JSON.stringify(challenges.map((c) => c.id))],
          )
        : [];
    const byId = new Map(progress.map((p) => [p.challenge_id, p]));
    return challenges.map((challenge) => {
      const mine = byId.get(challenge.id);
      const current = new Decimal(mine?.current ?? 0);
      return { challenge, current: current.toNumber(), progress: Decimal.min(1, current.div(challenge.target)).toNumber(), completed: !!mine?.completed_at };
    });
  }

  /** The ledger's "purchase posted": purchases move SPEND and ORDERS challenges. */
  async purchasePosted({ writer, member, purchase }: PurchasePosted): Promise<void> {
    await this.advance(writer, member, { kind: 'purchase', amount: purchase.amount });
  }

  /** A task was completed: TASKS challenges move. */
  async taskCompleted({ writer, member }: MemberActed): Promise<void> {
    await this.advance(writer, member, { kind: 'task' });
  }

  /** A member checked in: CHECK_INS challenges move. */
  async checkedIn({ writer, member }: MemberActed): Promise<void> {
    await this.advance(writer, member, { kind: 'check-in' });
  }

  /**
   * Moves the member's running challenges of the event's metric, inside the event's own
   * transaction (the member is locked): crossing the target pays rewardPoints exactly once.
   */
  private async advance(w: LedgerWriter, member: LockedMember, event: ChallengeEvent): Promise<void> {
    // Every challenge, per configuration version (issue 14: one read per admin edit, not per event),
    // the running ones picked by this event's time. Admins create a handful: the table stays small.
    const all = await this.all.get(w.configVersion, () => w.tx.execute<ChallengeRow[]>('select id, code, name, metric, target, reward_points, starts_at, ends_at from challenge'));
    const now = w.now.getTime();
    const running = all.filter((c) => new Date(c.starts_at).getTime() <= now && new Date(c.ends_at).getTime() > now);
    for (const challenge of running) {
      const step = challengeIncrement(challenge.metric, event);
      if (step.lte(0)) continue;
      const [progress] = await w.tx.execute<{ current: string; completed_at: string | null }[]>(
        `insert into challenge_progress (challenge_id, member_id, current) values (?, ?, ?)
         on conflict (challenge_id, member_id) do update set current = challenge_progress.current + excluded.current
         returning current, completed_at`,
        [challenge.id, member.id, step.toFixed(2)],
      );
      if (progress.completed_at || new Decimal(progress.current).lt(challenge.target)) continue;
      const { entry, granted } = await this.deps.rewards.pay(w, member, challenge.reward_points, `challenge:${challenge.code}`, `完成挑战「${challenge.name}」`);
      await w.tx.execute('update challenge_progress set completed_at = ?, entry_id = ? where challenge_id = ? and member_id = ?', [w.now, entry.id, challenge.id, member.id]);
      await this.deps.notifications.record(w.tx, w.now, [
        { memberId: member.id, kind: NotificationKind.REWARD, title: '挑战完成', body: `恭喜完成「${challenge.name}」,获得${granted}积分!`, data: { challenge: challenge.code, points: granted } },
      ]);
    }
  }
}
