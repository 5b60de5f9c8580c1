import { describe, expect, it } from 'vitest';
import { crashScenario } from '../support/chaos';

/**
 * kill -9 of the built server in the middle of a burst of earnings and redemptions, a restart on
 * the same database, and every client retrying every operation with its orderId / idempotency
 * key. Needs `npm run build` (CI builds before testing).
 */
describe('crash mid-redemption', () => {
  it('after kill -9 and retries with the same keys: each operation exactly once, no points lost or doubled, reconciliation clean, nothing left locked', async () => {
    const tally = await crashScenario({ clients: 6, opsPerClient: 10, killAfter: 20 });
    const operations = 6 * 10;
    // The crash really happened mid-burst: some operations were answered, some were not.
    expect(tally.facts.acknowledgedBeforeCrash).toBeGreaterThan(0);
    expect(tally.facts.acknowledgedBeforeCrash).toBeLessThan(operations);
    expect(tally.facts.notDone).toBe(0);
    expect(tally.succeeded).toBe(operations);
    expect(tally.facts.exitCode).toBe(0);
    expect({
      duplicates: tally.duplicates,
      lost: tally.lost,
      reconciliationOff: tally.reconciliationOff,
      leftovers: tally.leftovers,
      pointsOver: tally.facts.pointsOver,
      pointsUnder: tally.facts.pointsUnder,
    }).toEqual({
      duplicates: 0,
      lost: 0,
      reconciliationOff: 0,
      leftovers: 0,
      pointsOver: 0,
      pointsUnder: 0,
    });
    // Only the crash's own failures: nothing the server answered was an internal error.
    expect(Object.keys(tally.failed).filter((code) => !['ECONNRESET', 'ECONNREFUSED', 'SERVICE_UNAVAILABLE', 'socket hang up'].includes(code))).toEqual([]);
  });
});
