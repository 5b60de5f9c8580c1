import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { recordStatements, splitByTransaction } from '../support/statements';

/**
 * Round trips of one earning, counted on the wire through the real API (issue 14). The bounds
 * fail a change that adds a statement; lower them when a change removes one.
 */
const EARN_BOUND = { inTransaction: 11, outside: 4 };

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
});
