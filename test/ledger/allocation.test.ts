import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, expectReconciled } from '../support/ledger';

/**
 * The debit is one statement that locks the member's lots by id and takes points earliest expiry
 * first in SQL (ledger.sql.ts DEBIT_SQL). Raced by many spends of one member, it must still
 * drain the lots in one order (FIFO by expiry, never-expiring last), never take a point twice
 * nor lose one, and refuse exactly the spends the balance could not cover.
 */
describe('lot allocation under concurrent spends', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });
  const sql = <T>(query: string, params: unknown[] = []) => api.app.orm.em.fork().execute<T[]>(query, params);

  // Lots of one member, valid this many days (0: never expire), in the order they are granted.
  const LOTS = [
    { points: 30, validDays: 10 },
    { points: 50, validDays: 5 },
    { points: 20, validDays: 0 },
    { points: 40, validDays: 20 },
    { points: 25, validDays: 5 },
  ];
  const granted = LOTS.reduce((sum, l) => sum + l.points, 0);

  it('drains lots earliest expiry first and refuses only what the balance cannot cover', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 8, maxLength: 24 }), async (spends) => {
        const m = await createMember(api);
        for (const lot of LOTS) expect((await adjust(api, m.id, lot.points, { validDays: lot.validDays })).errors).toBeUndefined();

        const results = await Promise.all(spends.map((points) => adjust(api, m.id, -points)));
        const codes = results.map((r) => (r.errors ? r.errors[0].extensions?.code : 'OK'));
        expect(
          codes.every((c) => c === 'OK' || c === 'INSUFFICIENT_POINTS'),
          JSON.stringify(codes),
        ).toBe(true);
        const spent = spends.filter((_, i) => codes[i] === 'OK').reduce((sum, p) => sum + p, 0);

        const [member] = await sql<{ balance: number }>('select balance from member where id = ?', [m.id]);
        expect(member.balance).toBe(granted - spent);
        // A refusal saw a balance below its points, and balances only went down after it.
        const refused = spends.filter((_, i) => codes[i] !== 'OK');
        if (refused.length) expect(member.balance).toBeLessThan(Math.min(...refused));

        // FIFO: in expiry order (never-expiring last, then id), empty lots, at most one lot in
        // use, then untouched ones.
        const lots = await sql<{ amount: number; remaining: number }>('select amount, remaining from points_lot where member_id = ? order by expires_at asc nulls last, id asc', [m.id]);
        const state = lots.map((l) => (l.remaining === 0 ? 'empty' : l.remaining === l.amount ? 'full' : 'partial')).join(' ');
        expect(state).toMatch(/^(empty ?)*(partial ?)?(full ?)*$/);
        expect(lots.reduce((sum, l) => sum + l.remaining, 0)).toBe(member.balance);

        // Each debit's allocations are exactly its points; no lot gave more than it had.
        const entries = await sql<{ delta: number; allocated: number }>(
          `select e.delta, coalesce((select sum(a.amount) from lot_allocation a where a.entry_id = e.id), 0)::int as allocated
           from ledger_entry e where e.member_id = ? and e.delta < 0`,
          [m.id],
        );
        expect(entries).toHaveLength(codes.filter((c) => c === 'OK').length);
        for (const e of entries) expect(e.allocated).toBe(-e.delta);
        const [{ overdrawn }] = await sql<{ overdrawn: number }>(
          `select count(*)::int as overdrawn from points_lot l
           where l.member_id = ? and l.amount - l.remaining <> (select coalesce(sum(a.amount), 0) from lot_allocation a where a.lot_id = l.id)`,
          [m.id],
        );
        expect(overdrawn).toBe(0);
      }),
      { numRuns: 6 },
    );
  });
});
