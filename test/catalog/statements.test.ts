import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { expectReconciled } from '../support/ledger';
import { recordStatements, splitByTransaction } from '../support/statements';
import { createItem, memberWith, newKey, redeem } from './support';

/**
 * Round trips of one redemption, counted on the wire through the real API (issue 14: "against
 * the physical limit"). Every statement is a round trip that holds the member's row lock a little
 * longer; the bounds fail a change that adds one. Lower them when a change removes one.
 */
const REDEEM_BOUND = { inTransaction: 9, outside: 0 };
/** What a one-click redeem asks for (the bench's operation): fields of the payload that need no further read. */
const REDEEM = 'mutation($input: RedeemInput!) { redeem(input: $input) { remainingPoints redemption { id status pointsSpent } } }';

describe('statements per redemption', async () => {
  const api = await startApp();
  afterEach(async () => {
    await expectReconciled(api);
  });

  it(`redeems in at most ${REDEEM_BOUND.inTransaction} statements inside the transaction (BEGIN and COMMIT included) and ${REDEEM_BOUND.outside} outside`, async () => {
    const m = await memberWith(api, 1000);
    const item = await createItem(api, { pointsPrice: 100, stock: 5 });
    // A first redemption warms every cache (nothing is cached: the settings a redemption checks come with its read).
    expect((await redeem(api, m.token, { itemId: item.id })).errors).toBeUndefined();

    const { result, statements } = await recordStatements(() => api.gql(REDEEM, { input: { itemId: item.id, idempotencyKey: newKey() } }, m.token));
    expect(result.errors).toBeUndefined();
    expect(result.data.redeem).toMatchObject({ remainingPoints: 800, redemption: { status: 'COMPLETED', pointsSpent: 100 } });
    const { inTransaction, outside } = splitByTransaction(statements);
    console.info(`one redemption: ${inTransaction.length} statements in its transaction, ${outside.length} outside\n  ${statements.join('\n  ')}`);
    expect(inTransaction.length, inTransaction.join('\n')).toBeLessThanOrEqual(REDEEM_BOUND.inTransaction);
    expect(outside.length, outside.join('\n')).toBeLessThanOrEqual(REDEEM_BOUND.outside);
    // One transaction, whatever else changes.
    expect(inTransaction.filter((s) => /^begin/i.test(s))).toHaveLength(1);
  });
});
