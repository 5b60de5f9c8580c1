import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { recordStatements, splitByTransaction } from '../support/statements';

/**
 * Round trips of one earning, counted on the wire through the real API (issue 14). The bounds
 * fail a change that adds a statement; lower them when a change removes one.
 */
const EARN_BOUND = { inTransaction: 6, outside: 1 };

describe('statements per earning', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  it(`earns in at most ${EARN_BOUND.inTransaction} statements inside the transaction (BEGIN and COMMIT included) and ${EARN_BOUND.outside} outside`, async () => {
    const m = await createMember(api);
    // A first order warms every cache (and takes the first-order path once).
    expect((await earn(api, m.id, '10.00')).errors).toBeUndefined();

    const { result, statements } = await recordStatements(() => earn(api, m.id, '20.00'));
    expect(result.errors).toBeUndefined();
    expect(result.data.earnPoints).toMatchObject({ status: 'POSTED', duplicate: false });
    const { inTransaction, outside } = splitByTransaction(statements);
    console.info(`one earning: ${inTransaction.length} statements in its transaction, ${outside.length} outside\n  ${statements.join('\n  ')}`);
    expect(inTransaction.length, inTransaction.join('\n')).toBeLessThanOrEqual(EARN_BOUND.inTransaction);
    expect(outside.length, outside.join('\n')).toBeLessThanOrEqual(EARN_BOUND.outside);
    expect(inTransaction.filter((s) => /^begin/i.test(s))).toHaveLength(1);
  });

  it('reads settings, tiers and rules again once they changed, whoever changed them (a SQL console here)', async () => {
    const m = await createMember(api);
    expect((await earn(api, m.id, '10.00')).data.earnPoints.points).toBe(10);
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    try {
      await db.query('update program_settings set points_per_currency_unit = 3');
      const { result, statements } = await recordStatements(() => earn(api, m.id, '10.00'));
      expect(result.data.earnPoints.points).toBe(30);
      // The member lock saw the new configuration version: the terms were loaded again, in the transaction.
      expect(splitByTransaction(statements).inTransaction.some((s) => /from program_settings/.test(s))).toBe(true);
      await db.query('update tier set multiplier = 2 where level = (select min(level) from tier)');
      expect((await earn(api, m.id, '10.00')).data.earnPoints.points).toBe(60);
    } finally {
      await db.query('update program_settings set points_per_currency_unit = 1');
      await db.query('update tier set multiplier = 1 where level = (select min(level) from tier)');
      await db.end();
    }
    expect((await earn(api, m.id, '10.00')).data.earnPoints.points).toBe(10);
  });
});
