import { Decimal } from 'decimal.js';
import { addLocalDays, localDate, localParts, periodAt, startOfLocalDay } from '../platform/time';
import { ChallengeMetric, TaskFrequency } from './tasks.entity';

/** The period a completion counts in: the local day, the ISO week (Monday start), or forever. */
export function taskPeriodKey(frequency: TaskFrequency, at: Date, timeZone: string): string {
  if (frequency === TaskFrequency.DAILY) return localDate(at, timeZone);
  if (frequency === TaskFrequency.WEEKLY) return periodAt('WEEKLY', at, timeZone).key;
  return 'ONCE';
}

/** When the current period ends: next local midnight, next local Monday 00:00, or never. */
export function nextResetAt(frequency: TaskFrequency, at: Date, timeZone: string): Date | null {
  if (frequency === TaskFrequency.DAILY) return addLocalDays(at, 1, timeZone);
  if (frequency === TaskFrequency.WEEKLY) return periodAt('WEEKLY', at, timeZone).end;
  return null;
}

export const CHECK_IN_BASE = 5;
export const CHECK_IN_STEP = 2;
export const CHECK_IN_BONUS_CAP = 20;

/** Contract: reward = 5 + min(2 × consecutive days before today, 20). */
export function checkInReward(consecutiveDaysBefore: number): number {
  return CHECK_IN_BASE + Math.min(CHECK_IN_STEP * consecutiveDaysBefore, CHECK_IN_BONUS_CAP);
}

export interface LastCheckIn {
  day: string;
  streak: number;
}

/** The streak a check-in today starts or extends: a missed day resets it (contract). */
export function streakToday(last: LastCheckIn | null, today: string, yesterday: string): number {
  if (last?.day === today) return last.streak;
  return last?.day === yesterday ? last.streak + 1 : 1;
}

/** What the member's next check-in pays: today's if not done yet, else tomorrow's if the streak holds. */
export function nextCheckInReward(last: LastCheckIn | null, today: string, yesterday: string): number {
  if (last?.day === today) return checkInReward(last.streak);
  return checkInReward(last?.day === yesterday ? last.streak : 0);
}

export function localDayBounds(at: Date, timeZone: string) {
  const today = localDate(at, timeZone);
  const yesterday = localDate(addLocalDays(at, -1, timeZone), timeZone);
  const p = localParts(at, timeZone);
  const monthPrefix = `${p.year}-${String(p.month).padStart(2, '0')}-`;
  return { today, yesterday, monthPrefix, dayStart: startOfLocalDay(at, timeZone) };
}

/** How much an event moves a challenge of this metric. */
export function challengeIncrement(metric: ChallengeMetric, event: { kind: 'purchase'; amount: Decimal } | { kind: 'check-in' } | { kind: 'task' }): Decimal {
  if (event.kind === 'purchase') {
    if (metric === ChallengeMetric.SPEND) return event.amount;
    if (metric === ChallengeMetric.ORDERS) return new Decimal(1);
  }
  if (event.kind === 'check-in' && metric === ChallengeMetric.CHECK_INS) return new Decimal(1);
  if (event.kind === 'task' && metric === ChallengeMetric.TASKS) return new Decimal(1);
  return new Decimal(0);
}

export const challengeShare = (current: Decimal, target: Decimal) => Decimal.min(1, current.div(target)).toNumber();

/**
 * What a REWARD credit was paid for, from the reference this module gives it: `check-in:<day>`,
 * `challenge:<code>`, `referral:<invitee>`, or a task's code (which cannot contain a colon).
 */
export function rewardKind(reference: string | null): 'check_in' | 'challenge' | 'referral' | 'task' {
  if (reference?.startsWith('check-in:')) return 'check_in';
  if (reference?.startsWith('challenge:')) return 'challenge';
  if (reference?.startsWith('referral:')) return 'referral';
  return 'task';
}
