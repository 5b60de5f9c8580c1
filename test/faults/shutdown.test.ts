import { describe, expect, it } from 'vitest';
import { sigtermScenario } from '../support/chaos';

/**
 * SIGTERM to the built server (`node dist/src/main.js`) with 50 requests in flight (held waiting
 * on PostgreSQL by a stalled proxy) and 10 kept-alive sockets whose clients send again just after
 * the signal. Needs `npm run build` (CI builds before testing).
 */
describe('SIGTERM under load', () => {
  it('answers every request accepted before the signal, refuses new connections, closes sockets with 1001 and exits 0 in time', async () => {
    // Generous: on a loaded 2-core CI machine 50 money transactions after the stall can take seconds.
    const graceMs = 20_000;
    const tally = await sigtermScenario({ inFlight: 50, late: 10, graceMs });
    expect(tally.failed, JSON.stringify(tally.facts)).toEqual({});
    expect(tally.succeeded).toBe(60);
    expect(tally.facts).toMatchObject({
      exitCode: 0,
      wsCloseCode: 1001,
      stillInFlightAtRestore: true,
      inFlightAtSignal: 50,
      newConnectionAfterSignal: 'ECONNREFUSED',
      lateAnsweredWithConnectionClose: 10,
    });
    expect(tally.facts.shutdownMs).toBeLessThan(graceMs);
    expect({ duplicates: tally.duplicates, lost: tally.lost, reconciliationOff: tally.reconciliationOff, leftovers: tally.leftovers }).toEqual({
      duplicates: 0,
      lost: 0,
      reconciliationOff: 0,
      leftovers: 0,
    });
  });
});
