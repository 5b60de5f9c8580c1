import { describe, expect, it } from 'vitest';
import { isAvailable, quickScore } from '../../src/catalog/catalog.rules';

const NOW = new Date('2026-03-02T02:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('catalog rules', () => {
  // Quick options: affordable items costing 30%..100% of the balance, closest to 70% first (score = distance to 70%).
  it.each<[number, number, number | null]>([
    [50, 0, null], // no balance: no quick options
    [50, -10, null],
    [29, 100, null],
    [30, 100, 0.4],
    [70, 100, 0],
    [85, 100, 0.15],
    [100, 100, 0.3],
    [101, 100, null], // not affordable
  ])('quickScore(price %i, balance %i) = %s', (price, balance, score) => {
    const value = quickScore(price, balance);
    if (score === null) expect(value).toBeNull();
    else expect(value).toBeCloseTo(score, 10);
  });

  it.each([
    ['active, no window', { active: true, availableFrom: null, availableUntil: null }, true],
    ['inactive', { active: false, availableFrom: null, availableUntil: null }, false],
    ['from now (inclusive)', { active: true, availableFrom: NOW, availableUntil: null }, true],
    ['from a millisecond later', { active: true, availableFrom: at(1), availableUntil: null }, false],
    ['until now (exclusive)', { active: true, availableFrom: null, availableUntil: NOW }, false],
    ['until a millisecond later', { active: true, availableFrom: null, availableUntil: at(1) }, true],
  ])('isAvailable: %s → %s', (_name, item, available) => {
    expect(isAvailable(item, NOW)).toBe(available);
  });
});
