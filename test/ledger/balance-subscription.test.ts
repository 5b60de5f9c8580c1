import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startApp, wsExecute, type TestApp, untilSubscribed } from '../support/app';
import { createMember } from '../support/factories';
import { adjust, earn, expectReconciled } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect, type Collector } from '../support/ws';

const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta entry { id type status delta balanceAfter } at } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes and waits until the subscription is registered in Redis, so nothing published after it is missed. */
async function subscribe(api: TestApp, client: Client, memberId: string): Promise<Collector<any>> {
  const sub = collect(client, BALANCE_CHANGED, {}, 'balanceChanged');
  await untilSubscribed(api, `BALANCE:${memberId}`);
  return sub;
}

describe('balanceChanged subscription', async () => {
  const api = await startApp();
  const apiB = await startApp({ sharing: api });
  afterEach(async () => {
    await expectReconciled(api);
  });

  it('a member subscribed on instance B receives an earning made through instance A within 1 s', async () => {
    const m = await createMember(api);
    const sub = await subscribe(apiB, apiB.ws(m.token), m.id);
    const startedAt = Date.now();
    const res = await earn(api, m.id, '99.50');
    expect(res.errors).toBeUndefined();
    const posted = res.data.earnPoints.entry;
    const event = await sub.next(1000);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(event).toMatchObject({
      memberId: m.id,
      balance: 100,
      delta: 100,
      entry: { id: posted.id, type: 'PURCHASE', status: 'POSTED', delta: 100, balanceAfter: 100 },
      at: api.clock.now().toISOString(),
    });
    expect(sub.errors).toEqual([]);
  });

  it('pushes every posting in order: spends, approvals, expiry; nothing for a held or refused one', async () => {
    const m = await createMember(api);
    const sub = await subscribe(apiB, apiB.ws(m.token), m.id);
    expect((await earn(api, m.id, '100')).errors).toBeUndefined();
    await sub.next();
    expect((await adjust(api, m.id, -30)).errors).toBeUndefined();
    await sub.next();
    const held = await earn(api, m.id, '10000.01');
    expect(held.data.earnPoints.status).toBe('HELD_FOR_REVIEW');
    expect((await adjust(api, m.id, -1000)).errors?.[0].extensions?.code).toBe('INSUFFICIENT_POINTS');
    await api.ok(`mutation($id: ID!) { approveHeldEntry(entryId: $id) { id } }`, { id: held.data.earnPoints.entry.id });
    await sub.next();
    expect((await adjust(api, m.id, 5, { validDays: 1 })).errors).toBeUndefined();
    await sub.next();
    api.clock.advanceDays(1);
    await api.app.jobs.runOnce();
    await sub.next();
    // Nothing more (no event for the held earning or the refused spend): the sentinel is next.
    await sub.expectNothing(
      () => adjust(api, m.id, 1),
      (e) => e.entry.type === 'ADJUSTMENT' && e.delta === 1,
    );
    expect(sub.events.slice(0, 5).map((e) => [e.entry.type, e.entry.status, e.delta, e.balance])).toEqual([
      ['PURCHASE', 'POSTED', 100, 100],
      ['ADJUSTMENT', 'POSTED', -30, 70],
      ['PURCHASE', 'POSTED', 10001, 10071],
      ['ADJUSTMENT', 'POSTED', 5, 10076],
      ['EXPIRY', 'POSTED', -5, 10071],
    ]);
  });

  it("another member's subscription receives nothing", async () => {
    const m = await createMember(api);
    const other = await createMember(api);
    const mine = await subscribe(apiB, apiB.ws(m.token), m.id);
    const theirs = await subscribe(apiB, apiB.ws(other.token), other.id);
    const onA = await subscribe(api, api.ws(other.token), other.id);
    expect((await earn(api, m.id, '10')).errors).toBeUndefined();
    await mine.next();
    // Sentinel: their own earning, published after mine, is the first event both of theirs see.
    const theirsFirst = (e: any) => e.memberId === other.id && e.delta === 20;
    await theirs.expectNothing(async () => expect((await earn(api, other.id, '20')).errors).toBeUndefined(), theirsFirst);
    expect(await onA.next()).toMatchObject({ memberId: other.id, delta: 20 });
    expect(onA.events).toHaveLength(1);
    // And mine got nothing of theirs: my next event is my own sentinel.
    await mine.expectNothing(
      () => adjust(api, m.id, 1),
      (e) => e.memberId === m.id && e.delta === 1,
    );
  });

  it('admins subscribing to balanceChanged get FORBIDDEN (partners get no socket at all)', async () => {
    for (const token of [tokens.admin()]) {
      const result = await Promise.race([wsExecute(apiB.ws(token), BALANCE_CHANGED), sleep(3000).then(() => ({ timeout: true }) as any)]);
      expect(result.timeout).toBeUndefined();
      expect(result.data ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});
