import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, type ExecutionResult } from 'graphql';
import { startApp, untilSubscribed, wsExecute } from '../support/app';
import { createMember } from '../support/factories';
import { earn } from '../support/ledger';
import { tokens } from '../support/tokens';
import { collect } from '../support/ws';
import { SharedResult } from '../../src/realtime/shared-execution';
import { DocumentCache } from '../../src/realtime/document-cache';
import { sharedAcrossPrincipals } from '../../src/realtime/audience';

const BOARD = 'subscription { leaderboardChanged(period: ALL_TIME, first: 5) { totalMembers entries { rank score member { id nickname } } } }';
const BALANCE = 'subscription { balanceChanged { memberId balance delta entry { id reference } } }';

/** Serializations of one subscription field's results (sockets of other tests may still get pushes meanwhile). */
const encodedOf = (encode: { mock: { calls: [ExecutionResult][] } }, field: string) => encode.mock.calls.filter(([result]) => result.data && field in result.data).length;

describe('shared frames: one execution and one serialization per event and audience', async () => {
  const api = await startApp({ env: { LEADERBOARD_COALESCE_MS: '50' } });
  afterEach(() => vi.restoreAllMocks());

  it('serializes a board once per event for every member socket with the same selection, once more for admins', async () => {
    const members = await Promise.all(Array.from({ length: 4 }, () => createMember(api)));
    const boards = [...members.map((m) => collect(api.ws(m.token), BOARD, {}, 'leaderboardChanged')), collect(api.ws(tokens.admin()), BOARD, {}, 'leaderboardChanged')];
    await Promise.all(boards.map((b) => b.next(5000)));
    const encode = vi.spyOn(SharedResult, 'encode');
    expect((await earn(api, members[2].id, '100')).errors).toBeUndefined();
    const pushed = await Promise.all(boards.map((b) => b.next(5000)));
    // Every socket got the same board, with member 2 on top...
    for (const board of pushed) expect(board).toEqual(pushed[0]);
    expect(pushed[0].entries[0].member.id).toBe(members[2].id);
    // ...from two serializations: the four members' sockets share one, the admin's socket has its own role.
    expect(encodedOf(encode, 'leaderboardChanged')).toBe(2);
    expect(boards.flatMap((b) => b.errors)).toEqual([]);
    for (const b of boards) b.dispose();
  });

  it('parses and validates a document once however many sockets subscribe with it', async () => {
    const compile = vi.spyOn(DocumentCache.prototype, 'compile');
    const query = 'subscription { leaderboardChanged(period: WEEKLY, first: 3) { entries { rank } } }';
    const members = await Promise.all(Array.from({ length: 3 }, () => createMember(api)));
    const boards = members.map((m) => collect(api.ws(m.token), query, {}, 'leaderboardChanged'));
    await Promise.all(boards.map((b) => b.next(5000)));
    expect(compile.mock.calls.filter(([text]) => text === query)).toHaveLength(1);
    for (const b of boards) b.dispose();
  });

  it('still refuses a document over the limits on every socket that sends it', async () => {
    const member = await createMember(api);
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: totalMembers`).join(' ');
    const tooMany = `subscription { leaderboardChanged { ${aliases} } }`;
    const compile = vi.spyOn(DocumentCache.prototype, 'compile');
    for (let i = 0; i < 2; i += 1) {
      const result = await wsExecute(api.ws(member.token), tooMany);
      expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
      expect(result.errors?.[0].message).toMatch(/alias/i);
    }
    // A refused document is not kept: each sending pays for its own parse.
    expect(compile).toHaveBeenCalledTimes(2);
  });

  it("never sends a member another member's balance event, even with the same selection; a member's own sockets share one serialization", async () => {
    const [a, b] = await Promise.all([createMember(api), createMember(api)]);
    // One posting each first, so every subscription starts with its current balance (delta 0): once it
    // arrived, that subscription is registered (the live stream is opened before the snapshot is read).
    for (const m of [a, b]) expect((await earn(api, m.id, '1')).errors).toBeUndefined();
    const a1 = collect(api.ws(a.token), BALANCE, {}, 'balanceChanged');
    const a2 = collect(api.ws(a.token), BALANCE, {}, 'balanceChanged');
    const b1 = collect(api.ws(b.token), BALANCE, {}, 'balanceChanged');
    for (const [sub, owner] of [
      [a1, a],
      [a2, a],
      [b1, b],
    ] as const)
      expect(await sub.next()).toMatchObject({ memberId: owner.id, delta: 0 });
    await untilSubscribed(api, `BALANCE:${a.id}`);
    await untilSubscribed(api, `BALANCE:${b.id}`);

    const encode = vi.spyOn(SharedResult, 'encode');
    const earnedA = await earn(api, a.id, '100');
    const [gotA1, gotA2] = await Promise.all([a1.next(), a2.next()]);
    expect(gotA1).toEqual(gotA2);
    expect(gotA1).toMatchObject({ memberId: a.id, delta: 100, entry: { id: earnedA.data.earnPoints.entry.id } });
    expect(encodedOf(encode, 'balanceChanged')).toBe(1);

    // Proof by sentinel that b received nothing of a's: b's next event is its own earning.
    const sentinel = await b1.expectNothing(
      () => earn(api, b.id, '10'),
      (event) => event.memberId === b.id && event.delta === 10,
    );
    expect(sentinel.memberId).toBe(b.id);
    expect([...a1.events, ...a2.events].every((e) => e.memberId === a.id)).toBe(true);
    expect([a1, a2, b1].flatMap((s) => s.errors)).toEqual([]);
    for (const s of [a1, a2, b1]) s.dispose();
  });
});

describe('which subscriptions share results across principals', () => {
  const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8'));
  const shared = (query: string) => sharedAcrossPrincipals(schema, parse(query));

  it('only the public feeds, and only while they reach no member-owned type', () => {
    expect(shared(BOARD)).toBe(true);
    expect(shared('subscription { programStatsUpdated { members } }')).toBe(true);
    expect(shared(BALANCE)).toBe(false);
    // Every other subscription field is per principal (fail closed).
    const others = Object.keys(schema.getSubscriptionType()!.getFields()).filter((f) => !['leaderboardChanged', 'programStatsUpdated'].includes(f));
    expect(others.length).toBeGreaterThan(0);
    for (const field of others) expect(shared(`subscription { ${field} { __typename } }`), field).toBe(false);
  });
});
