import type { EntityManager } from '@mikro-orm/postgresql';
import { Decimal } from 'decimal.js';
import type { Clock } from '../platform/clock';
import { BadInputError, ConflictError, ForbiddenError } from '../platform/errors';
import { retryOnUniqueViolation, uniqueViolation } from '../platform/db/orm';
import { isUuid } from '../platform/ids';
import { MemberStatus } from '../members';
import { MemberFrozenError, MemberNotFoundError } from '../members';
import type { MemberService } from '../members/member.service';
import type { RegisterMemberInput } from '../members/member.types';
import type { Member } from '../members';
import { capWindow, expiryFor } from '../ledger/ledger.rules';
import type { EntryRow, LedgerWriter, LedgerWriters, LockedMember, PurchasePosted, RewardCaps } from '../ledger';
import type { ProgramService } from '../program/program.service';
import type { NotificationService } from '../notifications/notification.service';
import { NotificationKind } from '../notifications';
import { Challenge, ChallengeMetric, Task, TaskFrequency } from './tasks.entity';
import { AlreadyDoneError, TaskNotFoundError } from './tasks.errors';
import { challengeIncrement, checkInReward, localDayBounds, nextCheckInReward, nextResetAt, streakToday, taskPeriodKey } from './tasks.rules';
import { transact } from '../platform/db/unit-of-work';
import { touchLastActive } from '../members';

export interface TaskFields {
  code: string;
  name: string;
  description?: string | null;
  points: number;
  frequency: TaskFrequency;
  selfClaimable?: boolean | null;
  active?: boolean | null;
}

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

export interface CompletionResult {
  task: Task;
  pointsAwarded: number;
  balance: number;
}

type ChallengeEvent = { kind: 'purchase'; amount: Decimal } | { kind: 'check-in' } | { kind: 'task' };

const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function text(value: string | null | undefined, field: string, max: number, required = true): string {
  const v = (value ?? '').trim();
  if ((required && !v) || v.length > max) throw new BadInputError(`${field} must be ${required ? '1' : '0'} to ${max} characters`, field);
  return v;
}

/**
 * Tasks, check-ins, challenges and referrals. Every reward is a REWARD credit through the
 * ledger writer, in the same transaction as the record that justifies it, and unique keys in
 * the database (member, task, period; member, day) make a second payment impossible.
 */
export class GamificationService {
  constructor(
    private readonly deps: {
      clock: Clock;
      timeZone: string;
      writers: LedgerWriters;
      members: MemberService;
      program: ProgramService;
      notifications: NotificationService;
    },
  ) {}

  /**
   * Listens to the ledger's "purchase posted" (wired in src/app.ts): purchases move SPEND and
   * ORDERS challenges inside the earning's own transaction.
   */
  async purchasePosted({ writer, member, purchase }: PurchasePosted): Promise<void> {
    await this.advanceChallenges(writer, member, { kind: 'purchase', amount: purchase.amount });
  }

  /** Now, and the program's time zone: for callers that schedule by the program's calendar (the demo seed). */
  calendar(): { now: Date; timeZone: string } {
    return { now: this.deps.clock.now(), timeZone: this.deps.timeZone };
  }

  /** A REWARD under the program's earning caps (issue 17): `granted` may be less than asked, even 0. */
  private async reward(w: LedgerWriter, member: LockedMember, points: number, reference: string, description: string): Promise<{ entry: EntryRow; granted: number }> {
    const settings = await this.deps.program.settings(w.tx);
    return w.cappedReward(member, { points, expiresAt: expiryFor(w.now, settings.validityDays), reference, source: 'system:rewards', description }, this.capsOf(settings, w.now));
  }

  private capsOf(settings: { rewardDailyCap: number | null; rewardMonthlyCap: number | null }, now: Date): RewardCaps {
    return capWindow(now, this.deps.timeZone, settings.rewardDailyCap, settings.rewardMonthlyCap);
  }

  // ── tasks ──

  async upsertTask(em: EntityManager, input: TaskFields): Promise<Task> {
    const code = input.code.trim();
    if (!CODE.test(code)) throw new BadInputError('code must be 1 to 64 letters, digits, dots, dashes or underscores', 'code');
    const name = text(input.name, 'name', 64);
    const description = text(input.description, 'description', 500, false);
    if (!Number.isInteger(input.points) || input.points < 1 || input.points > 1_000_000) throw new BadInputError('points must be 1 to 1000000', 'points');
    const write = () =>
      transact(em.fork(), async ({ tx }) => {
        const now = this.deps.clock.now();
        const task = await tx.findOne(Task, { code });
        const fields = { name, description, points: input.points, frequency: input.frequency, selfClaimable: input.selfClaimable ?? false, active: input.active ?? true, updatedAt: now };
        if (task) return Object.assign(task, fields);
        return tx.create(Task, { code, ...fields, createdAt: now });
      });
    // Two admins created the same new code at once: the loser finds it now and updates it.
    return retryOnUniqueViolation(['task_code_unique'], write);
  }

  /** Active tasks with the member's progress in the current period. */
  async tasks(em: EntityManager, memberId: string | null) {
    const now = this.deps.clock.now();
    const tasks = await em.find(Task, { active: true }, { orderBy: { createdAt: 'asc', code: 'asc' } });
    const done = memberId
      ? await em.execute<{ task_id: string; period_key: string; n: number }[]>(
          'select task_id, period_key, count(*) over (partition by task_id)::int as n from task_completion where member_id = ?',
          [memberId],
        )
      : [];
    return tasks.map((task) => {
      const period = taskPeriodKey(task.frequency, now, this.deps.timeZone);
      const mine = done.filter((d) => d.task_id === task.id);
      return {
        task,
        completedThisPeriod: mine.some((d) => d.period_key === period),
        completions: mine[0]?.n ?? 0,
        nextResetAt: nextResetAt(task.frequency, now, this.deps.timeZone),
      };
    });
  }

  async claimTask(em: EntityManager, memberId: string, code: string): Promise<CompletionResult> {
    const task = await em.findOne(Task, { code: code.trim() });
    if (!task || !task.active) throw new TaskNotFoundError(code);
    if (!task.selfClaimable) throw new ForbiddenError('This task is reported by a partner; it cannot be claimed');
    return this.complete(em, memberId, task, null);
  }

  /**
   * A partner reports a completion; the same reference from the same partner again returns the
   * first result. `partnerId` scopes references ('' for admins), as order ids are scoped.
   */
  async recordCompletion(em: EntityManager, memberId: string, code: string, referenceInput: string, partnerId = ''): Promise<CompletionResult> {
    const reference = text(referenceInput, 'reference', 128);
    const task = await em.findOne(Task, { code: code.trim() });
    if (!task || !task.active) throw new TaskNotFoundError(code);
    if (!isUuid(memberId)) throw new MemberNotFoundError(memberId);
    return this.complete(em, memberId, task, reference, partnerId);
  }

  private async complete(em: EntityManager, memberId: string, task: Task, reference: string | null, partnerId = ''): Promise<CompletionResult> {
    try {
      return await transact(em, async (uow) => {
        const w = this.deps.writers.of(uow);
        const member = await w.lockMember(memberId);
        if (reference) {
          const [previous] = await w.tx.execute<{ member_id: string; points: number }[]>(
            `select c.member_id, case when e.status = 'POSTED' then e.delta else 0 end as points from task_completion c join ledger_entry e on e.id = c.entry_id where c.task_id = ? and c.partner_id = ? and c.reference = ?`,
            [task.id, partnerId, reference],
          );
          if (previous) {
            if (previous.member_id !== memberId) throw new ConflictError('This reference was already reported for another member', { reference });
            return { task, pointsAwarded: previous.points, balance: member.balance };
          }
        }
        if (member.status === MemberStatus.FROZEN) throw new MemberFrozenError(memberId);
        const period = taskPeriodKey(task.frequency, w.now, this.deps.timeZone);
        const [done] = await w.tx.execute('select 1 from task_completion where member_id = ? and task_id = ? and period_key = ?', [memberId, task.id, period]);
        if (done) throw new AlreadyDoneError(task.frequency === TaskFrequency.ONCE ? 'This task is already done' : 'This task is already done for this period');
        const { entry, granted } = await this.reward(w, member, task.points, task.code, `完成任务「${task.name}」`);
        await w.tx.execute(
          'insert into task_completion (member_id, task_id, period_key, partner_id, reference, entry_id, completed_at) values (?, ?, ?, ?, ?, ?, ?)',
          [memberId, task.id, period, partnerId, reference, entry.id, w.now],
        );
        await this.advanceChallenges(w, member, { kind: 'task' });
        await touchLastActive(w.tx, memberId, w.now);
        return { task, pointsAwarded: granted, balance: member.balance };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'task_completion_period_unique') throw new AlreadyDoneError('This task is already done for this period');
      if (uniqueViolation(error) === 'task_completion_reference_unique') return this.complete(em, memberId, task, reference, partnerId);
      throw error;
    }
  }

  // ── check-in ──

  /** Contract: reward = 5 + min(2 × consecutive days before today, 20); days are local to the program. */
  async checkIn(em: EntityManager, memberId: string): Promise<{ pointsAwarded: number; streak: number; balance: number }> {
    try {
      return await transact(em, async (uow) => {
        const w = this.deps.writers.of(uow);
        const member = await w.lockMember(memberId);
        if (member.status === MemberStatus.FROZEN) throw new MemberFrozenError(memberId);
        const { today, yesterday } = localDayBounds(w.now, this.deps.timeZone);
        const [last] = await w.tx.execute<{ day: string; streak: number }[]>('select day, streak from check_in where member_id = ? order by day desc limit 1', [memberId]);
        if (last?.day === today) throw new AlreadyDoneError('Already checked in today');
        const streak = streakToday(last ?? null, today, yesterday);
        const points = checkInReward(streak - 1);
        const { entry, granted } = await this.reward(w, member, points, `check-in:${today}`, `第${streak}天连续签到`);
        await w.tx.execute('insert into check_in (member_id, day, streak, points, entry_id, created_at) values (?, ?, ?, ?, ?, ?)', [memberId, today, streak, granted, entry.id, w.now]);
        await this.advanceChallenges(w, member, { kind: 'check-in' });
        await touchLastActive(w.tx, memberId, w.now);
        return { pointsAwarded: granted, streak, balance: member.balance };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'check_in_pkey') throw new AlreadyDoneError('Already checked in today');
      throw error;
    }
  }

  async checkInStatus(em: EntityManager, memberId: string) {
    const now = this.deps.clock.now();
    const { today, yesterday, monthPrefix } = localDayBounds(now, this.deps.timeZone);
    const rows = await em.execute<{ day: string; streak: number }[]>(
      'select day, streak from check_in where member_id = ? and (day >= ? or day = ?) order by day desc',
      [memberId, `${monthPrefix}01`, yesterday],
    );
    const last = rows[0] ?? null;
    const checkedInToday = last?.day === today;
    const holds = checkedInToday || last?.day === yesterday;
    return {
      checkedInToday,
      streak: holds && last ? last.streak : 0,
      nextReward: nextCheckInReward(last, today, yesterday),
      monthDays: rows.filter((r) => r.day.startsWith(monthPrefix)).map((r) => r.day).sort(),
    };
  }

  // ── challenges ──

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
        const fields = { name, description, metric: input.metric, target: target.toFixed(2), rewardPoints: input.rewardPoints, startsAt: input.startsAt, endsAt: input.endsAt, updatedAt: this.deps.clock.now() };
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
    const progress = memberId && challenges.length
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

  /**
   * Moves the member's running challenges of the event's metric, inside the event's own
   * transaction (the member is locked): crossing the target pays rewardPoints exactly once.
   */
  private async advanceChallenges(w: LedgerWriter, member: LockedMember, event: ChallengeEvent): Promise<void> {
    const running = await w.tx.execute<{ id: string; code: string; name: string; metric: ChallengeMetric; target: string; reward_points: number }[]>(
      'select id, code, name, metric, target, reward_points from challenge where starts_at <= ? and ends_at > ?',
      [w.now, w.now],
    );
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
      const { entry, granted } = await this.reward(w, member, challenge.reward_points, `challenge:${challenge.code}`, `完成挑战「${challenge.name}」`);
      await w.tx.execute('update challenge_progress set completed_at = ?, entry_id = ? where challenge_id = ? and member_id = ?', [w.now, entry.id, challenge.id, member.id]);
      await this.deps.notifications.record(w.tx, w.now, [
        { memberId: member.id, kind: NotificationKind.REWARD, title: '挑战完成', body: `恭喜完成「${challenge.name}」,获得${granted}积分!`, data: { challenge: challenge.code, points: granted } },
      ]);
    }
  }

  // ── referrals ──

  /**
   * registerMember, with an invite code: the new member and the inviter are rewarded in the
   * registration's own transaction, once (the referral row is keyed by the invitee).
   */
  async register(em: EntityManager, input: RegisterMemberInput): Promise<Member> {
    return this.deps.members.register(em, input, async (uow, created) => {
      if (!created.referredBy) return;
      const tx = uow.tx;
      const settings = await this.deps.program.settings(tx);
      const w = this.deps.writers.of(uow);
      // Two members in one transaction: lock them in id order, as every other path would.
      const [first, second] = [created.id, created.referredBy].sort();
      const locked = new Map<string, LockedMember>();
      for (const id of [first, second]) locked.set(id, await w.lockMember(id));
      const inviter = locked.get(created.referredBy)!;
      const invitee = locked.get(created.id)!;
      const inviterPoints = inviter.status === MemberStatus.ACTIVE ? settings.referralInviterPoints : 0;
      const inviteePoints = settings.referralInviteePoints;
      const expiresAt = expiryFor(w.now, settings.validityDays);
      if (inviteePoints > 0) {
        await w.cappedReward(invitee, { points: inviteePoints, expiresAt, reference: `referral:${created.id}`, source: 'system:referral', description: '受邀注册奖励' }, this.capsOf(settings, w.now));
      }
      if (inviterPoints > 0) {
        await w.cappedReward(inviter, { points: inviterPoints, expiresAt, reference: `referral:${created.id}`, source: 'system:referral', description: `邀请好友「${created.nickname}」奖励` }, this.capsOf(settings, w.now));
      }
      await tx.execute('insert into referral (invitee_id, inviter_id, inviter_points, invitee_points, created_at) values (?, ?, ?, ?, ?)', [created.id, inviter.id, inviterPoints, inviteePoints, w.now]);
    });
  }

  async referrals(em: EntityManager, inviterId: string) {
    return em.execute<{ invitee_id: string; inviter_points: number; created_at: string }[]>(
      'select invitee_id, inviter_points, created_at from referral where inviter_id = ? order by created_at desc, invitee_id',
      [inviterId],
    );
  }
}
