import type { EntityManager } from '@mikro-orm/postgresql';
import { BadInputError, ConflictError, ForbiddenError } from '../platform/errors';
import { retryOnUniqueViolation, uniqueViolation } from '../platform/db/orm';
import { transact } from '../platform/db/unit-of-work';
import { Hook } from '../platform/hooks';
import { isUuid } from '../platform/ids';
import { MemberFrozenError, MemberNotFoundError, MemberStatus, touchLastActive } from '../members';
import { Task, TaskFrequency } from './tasks.entity';
import { AlreadyDoneError, TaskNotFoundError } from './tasks.errors';
import { nextResetAt, taskPeriodKey } from './tasks.rules';
import type { MemberActed } from './tasks.events';
import { CODE, text } from './tasks.input';
import type { RewardingDeps } from './reward.service';

export interface TaskFields {
  code: string;
  name: string;
  description?: string | null;
  points: number;
  frequency: TaskFrequency;
  selfClaimable?: boolean | null;
  active?: boolean | null;
}

export interface CompletionResult {
  task: Task;
  pointsAwarded: number;
  balance: number;
}

/**
 * Tasks: daily, weekly and once tasks a member claims or a partner reports. The reward is paid in
 * the same transaction as the completion that justifies it, and the unique key (member, task,
 * period) makes a second payment impossible.
 */
export class TaskService {
  /** A completion, told inside its transaction (challenge progress listens; wired in src/app.ts). */
  readonly completed = new Hook<MemberActed>();

  constructor(private readonly deps: RewardingDeps) {}

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
      ? await em.execute<{ task_id: string; period_key: string; n: number }[]>('select task_id, period_key, count(*) over (partition by task_id)::int as n from task_completion where member_id = ?', [
          memberId,
        ])
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
        const { entry, granted } = await this.deps.rewards.pay(w, member, task.points, task.code, `完成任务「${task.name}」`);
        await w.tx.execute('insert into task_completion (member_id, task_id, period_key, partner_id, reference, entry_id, completed_at) values (?, ?, ?, ?, ?, ?, ?)', [
          memberId,
          task.id,
          period,
          partnerId,
          reference,
          entry.id,
          w.now,
        ]);
        await this.completed.emit({ writer: w, member });
        await touchLastActive(w.tx, memberId, w.now);
        return { task, pointsAwarded: granted, balance: member.balance };
      });
    } catch (error) {
      if (uniqueViolation(error) === 'task_completion_period_unique') throw new AlreadyDoneError('This task is already done for this period');
      if (uniqueViolation(error) === 'task_completion_reference_unique') return this.complete(em, memberId, task, reference, partnerId);
      throw error;
    }
  }
}
