import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { ChallengeMetric } from '../../src/tasks/tasks.entity';
import { challengeIncrement, challengeShare, checkInReward, nextCheckInReward, rewardKind, streakToday, type LastCheckIn } from '../../src/tasks/tasks.rules';

/** Pure formulas of tasks and check-in (contract: reward = 5 + min(2 × consecutive days before today, 20)). */
const TODAY = '2026-03-10';
const YESTERDAY = '2026-03-09';

describe('check-in rules', () => {
  it.each([
    [0, 5],
    [1, 7],
    [9, 23],
    [10, 25], // the bonus reaches its cap of 20
    [11, 25],
    [365, 25],
  ])('checkInReward(%i days before) = %i', (days, reward) => {
    expect(checkInReward(days)).toBe(reward);
  });

  it.each<[string, LastCheckIn | null, number]>([
    ['no check-in yet', null, 1],
    ['yesterday, streak 3', { day: YESTERDAY, streak: 3 }, 4],
    ['already today, streak 4', { day: TODAY, streak: 4 }, 4],
    ['two days ago: a missed day resets', { day: '2026-03-08', streak: 9 }, 1],
  ])('streakToday: %s → %i', (_name, last, streak) => {
    expect(streakToday(last, TODAY, YESTERDAY)).toBe(streak);
  });

  it.each<[string, LastCheckIn | null, number]>([
    ['no check-in yet: today pays the base', null, 5],
    ['yesterday, streak 3: today pays for 3 days before', { day: YESTERDAY, streak: 3 }, 11],
    ['already today, streak 4: tomorrow pays for 4 days before', { day: TODAY, streak: 4 }, 13],
    ['streak broken: the base again', { day: '2026-03-01', streak: 12 }, 5],
    ['yesterday, streak 10: capped', { day: YESTERDAY, streak: 10 }, 25],
  ])('nextCheckInReward: %s → %i', (_name, last, reward) => {
    expect(nextCheckInReward(last, TODAY, YESTERDAY)).toBe(reward);
  });
});

describe('challenge and reward rules', () => {
  const purchase = { kind: 'purchase' as const, amount: new Decimal('12.50') };
  it.each([
    [ChallengeMetric.SPEND, purchase, '12.5'],
    [ChallengeMetric.ORDERS, purchase, '1'],
    [ChallengeMetric.CHECK_INS, purchase, '0'],
    [ChallengeMetric.TASKS, purchase, '0'],
    [ChallengeMetric.CHECK_INS, { kind: 'check-in' as const }, '1'],
    [ChallengeMetric.SPEND, { kind: 'check-in' as const }, '0'],
    [ChallengeMetric.TASKS, { kind: 'task' as const }, '1'],
    [ChallengeMetric.ORDERS, { kind: 'task' as const }, '0'],
  ])('challengeIncrement(%s, %o) = %s', (metric, event, increment) => {
    expect(challengeIncrement(metric, event).toString()).toBe(increment);
  });

  it.each([
    ['0', '10', 0],
    ['5', '10', 0.5],
    ['9.99', '10', 0.999],
    ['10', '10', 1],
    ['15', '10', 1], // past the target: still 1
  ])('challengeShare(%s of %s) = %f', (current, target, share) => {
    expect(challengeShare(new Decimal(current), new Decimal(target))).toBe(share);
  });

  it.each([
    ['check-in:2026-03-10', 'check_in'],
    ['challenge:MARCH-SPEND', 'challenge'],
    ['referral:0b7e5d7e', 'referral'],
    ['daily-share', 'task'],
    [null, 'task'],
  ])('rewardKind(%s) = %s', (reference, kind) => {
    expect(rewardKind(reference)).toBe(kind);
  });
});
