import type { EntityManager } from '@mikro-orm/postgresql';
import { uniqueViolation } from '../platform/db/orm';
import { transact } from '../platform/db/unit-of-work';
import { Hook } from '../platform/hooks';
import { MemberFrozenError, MemberStatus, touchLastActive } from '../members';
import { AlreadyDoneError } from './tasks.errors';
import { checkInReward, localDayBounds, nextCheckInReward, streakToday } from './tasks.rules';
import type { MemberActed } from './tasks.events';
import type { RewardingDeps } from './reward.service';

/**
 * Daily check-in streaks, by the program's local days. The primary key (member, day) makes a
 * second check-in on one day impossible, whatever races.
 */
export class CheckInService {
  /** A check-in, told inside its transaction (challenge progress listens; wired in src/app.ts). */
  readonly checkedIn = new Hook<MemberActed>();

  constructor(private readonly deps: RewardingDeps) {}

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
        const { entry, granted } = await this.deps.rewards.pay(w, member, points, `check-in:${today}`, `第${streak}天连续签到`);
        await w.tx.execute('insert into check_in (member_id, day, streak, points, entry_id, created_at) values (?, ?, ?, ?, ?, ?)', [memberId, today, streak, granted, entry.id, w.now]);
        await this.checkedIn.emit({ writer: w, member });
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
    const rows = await em.execute<{ day: string; streak: number }[]>('select day, streak from check_in where member_id = ? and (day >= ? or day = ?) order by day desc', [
      memberId,
      `${monthPrefix}01`,
      yesterday,
    ]);
    const last = rows[0] ?? null;
    const checkedInToday = last?.day === today;
    const holds = checkedInToday || last?.day === yesterday;
    return {
      checkedInToday,
      streak: holds && last ? last.streak : 0,
      nextReward: nextCheckInReward(last, today, yesterday),
      monthDays: rows
        .filter((r) => r.day.startsWith(monthPrefix))
        .map((r) => r.day)
        .sort(),
    };
  }
}
