import { describe, expect, it } from 'vitest';
import { competitionRanks, scoreDelta, topPercent } from '../../src/leaderboard/leaderboard.rules';

describe('leaderboard rules', () => {
  it.each([
    [1, 4, 25],
    [1, 3, 33.3],
    [2, 3, 66.7],
    [3, 3, 100],
    [1, 1, 100],
    [1, 1000, 0.1],
    [1, 3000, 0], // rounded to one decimal
    [1, 0, 100], // nobody ranked
  ])('topPercent(rank %i of %i) = %f', (rank, total, percent) => {
    expect(topPercent(rank, total)).toBe(percent);
  });

  it.each([
    [[], []],
    [[100], [1]],
    [
      [100, 90, 90, 80],
      [1, 2, 2, 4],
    ],
    [
      [5, 5, 5],
      [1, 1, 1],
    ],
    [
      [9, 8, 7],
      [1, 2, 3],
    ],
  ])('competitionRanks(%j) = %j', (scores, ranks) => {
    expect(competitionRanks(scores)).toEqual(ranks);
  });

  it.each([
    ['PURCHASE', 'POSTED', 120, 120],
    ['REWARD', 'POSTED', 7, 7],
    ['REVERSAL', 'POSTED', -50, -50],
    ['PURCHASE', 'HELD', 120, 0], // not posted yet
    ['REDEMPTION', 'POSTED', -300, 0],
    ['REFUND', 'POSTED', 300, 0],
    ['EXPIRY', 'POSTED', -40, 0],
    ['ADJUSTMENT', 'POSTED', 1000, 0],
  ])('scoreDelta(%s, %s, %i) = %i', (type, status, delta, score) => {
    expect(scoreDelta({ type, status, delta })).toBe(score);
  });
});
