import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { earn, expectReconciled } from '../support/ledger';
import { startLocalCluster } from '../support/redis-cluster';
import { untilBoard } from '../support/boards';
import { collect } from '../support/ws';
import { loadConfig } from '../../src/platform/config';

const BALANCE_CHANGED = 'subscription { balanceChanged { memberId balance delta } }';
const BOARD = `query($period: LeaderboardPeriod!) { leaderboard(period: $period, first: 20) { totalMembers entries { rank score member { id } } } }`;

const until = async (check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition') => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/**
 * REDIS_CLUSTER_NODES: two instances on a private three-master Redis Cluster (one replica each)
 * that this file starts on loopback ports and kills at the end.
 */
describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', async () => {
  const cluster = await startLocalCluster();
  const env = { REDIS_CLUSTER_NODES: cluster.nodes };
  const a = await startApp({ env });
  const b = await startApp({ sharing: a, env });
  afterAll(async () => {
    await b.stop();
    await a.stop();
    await cluster.stop();
  });

  const listen = (on: TestApp, token: string) => collect<{ memberId: string; balance: number; delta: number }>(on.ws(token), BALANCE_CHANGED, {}, 'balanceChanged');
  const channelOf = (memberId: string) => `${a.redisPrefix}BALANCE:${memberId}`;

  it('parses REDIS_CLUSTER_NODES, and lists a malformed entry', () => {
    expect(loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001' }).redisClusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
    ]);
    expect(loadConfig({ NODE_ENV: 'test' }).redisClusterNodes).toEqual([]);
    expect(() => loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b' })).toThrow(/REDIS_CLUSTER_NODES/);
  });

  it('uses the cluster and sharded pub/sub: an earning on A reaches the member’s socket on B', async () => {
    expect(a.app.redis.sharded).toBe(true);
    const m = await createMember(a);
    const balance = listen(b, m.token);
    // SSUBSCRIBE: the member's channel has its subscriber on the shard owning its slot.
    await until(async () => (await cluster.shardSubscribers(channelOf(m.id))) >= 1, 5000, 'sharded subscription');
    expect((await earn(a, m.id, '66.00')).errors).toBeUndefined();
    expect(await balance.next()).toEqual({ memberId: m.id, balance: 66, delta: 66 });
    expect(balance.errors).toEqual([]);
    balance.dispose();
    await expectReconciled(a);
  });

  it('keeps the leaderboards (hash-tagged keys: rebuild staging + RENAME in one slot) and the recommendations cache working', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(a)));
    for (const [i, m] of members.entries()) expect((await earn(i % 2 ? a : b, m.id, `${(i + 1) * 10}.00`)).errors).toBeUndefined();
    const read = async (on: TestApp, period: string) => (await on.ok(BOARD, { period })).leaderboard;
    await untilBoard(a, 'WEEKLY', (board) => members.every((m) => board.entries.some((e) => e.member.id === m.id)));
    const before = await Promise.all(['WEEKLY', 'MONTHLY', 'ALL_TIME'].map((p) => read(a, p)));
    const ours = before[0].entries.filter((e: any) => members.some((m) => m.id === e.member.id));
    expect(ours.map((e: any) => e.member.id)).toEqual([...members].reverse().map((m) => m.id));
    // A rebuild stages each board under a tagged key and RENAMEs it over the live one: the same slot.
    expect(await a.app.services.leaderboardRebuild.rebuildAll()).toMatchObject({ WEEKLY: expect.any(Number), MONTHLY: expect.any(Number), ALL_TIME: expect.any(Number) });
    const after = await Promise.all(['WEEKLY', 'MONTHLY', 'ALL_TIME'].map((p) => read(b, p)));
    expect(after).toEqual(before);
    // The board, its :at and a staging key share one slot; the boards of different periods need not.
    const week = '{lb:WEEKLY:x}';
    expect(await cluster.masterOf(`${a.redisPrefix}${week}:at`)).toBe(await cluster.masterOf(`${a.redisPrefix}${week}`));
    // Recommendations read the catalog version and the member's cached list (two slots) without MGET.
    const recs = await a.gql('{ recommendations(first: 3) { reason } }', {}, members[0].token);
    expect(recs.errors).toBeUndefined();
  });

  it('a master crashes: its replica takes over and subscriptions on it resume', async () => {
    const m = await createMember(a);
    const balance = listen(b, m.token);
    await until(async () => (await cluster.shardSubscribers(channelOf(m.id))) >= 1, 5000, 'sharded subscription');
    expect((await earn(a, m.id, '10.00')).errors).toBeUndefined();
    expect(await balance.next()).toEqual({ memberId: m.id, balance: 10, delta: 10 });

    const master = await cluster.masterOf(channelOf(m.id));
    cluster.crash(master);
    await cluster.untilHealthy();
    expect(await cluster.masterOf(channelOf(m.id))).not.toBe(master);
    // The subscriber follows the slot to the promoted replica; once it is subscribed there, pushes flow again.
    await until(async () => (await cluster.shardSubscribers(channelOf(m.id))) >= 1, 10_000, 'resubscription');
    expect((await earn(a, m.id, '20.00')).errors).toBeUndefined();
    // Read next: the earning after the failover, and nothing else before it (no event repeated by the resubscription).
    expect(await balance.next(5000)).toEqual({ memberId: m.id, balance: 30, delta: 20 });
    expect(balance.errors).toEqual([]);
    balance.dispose();
    await expectReconciled(a);
  });
});
