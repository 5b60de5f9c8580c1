import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';
import { expectReconciled } from '../support/ledger';
import { operationName, partnerCall, partnerOperationIds, partnerPost } from '../support/partner';
import { MemberByExternalIdDocument, MemberLedgerDocument, PostPurchaseDocument, RecordTaskCompletionDocument, ReversePurchaseDocument, UseCouponDocument } from '../../schema/generated/graphql';

/** acme: every operation; till: a till's two; tiny: a bucket of 2, refilled at 1/s. */
const PARTNERS = JSON.stringify({
  acme: { name: 'Acme 商城' },
  globex: { name: 'Globex 百货' },
  till: { name: '门店收银', operations: ['UseCoupon', 'MemberByExternalId'] },
  tiny: { name: 'Tiny', ratePerSecond: 1, burst: 2 },
  audited: { name: 'Audited', ratePerSecond: 1, burst: 4 },
  leased: { name: 'Leased', ratePerSecond: 1, burst: 40 },
});
const env = { PARTNERS };

let api: TestApp;
let second: TestApp;
const acme = tokens.partner('acme');
const globex = tokens.partner('globex');

beforeAll(async () => {
  api = await startApp({ env });
  second = await startApp({ sharing: api, env });
});
afterAll(async () => {
  await expectReconciled(api);
});

const byHash = (id: string, variables: Record<string, unknown> = {}) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
const purchase = (memberId: string, orderId: string, amount = '100.00') => ({ input: { memberId, orderId, amount } });

describe('a real client (Apollo Client 4, persisted-query link fed from the generated manifest)', () => {
  it('posts a purchase and reads the balance by id only; a free-form query from the same client is refused', async () => {
    const m = await createMember(api, { externalId: 'apollo-client-1' });
    const sent: (string | undefined)[] = [];
    const spy = new ApolloLink((operation, forward) => {
      sent.push((operation.extensions.persistedQuery as { sha256Hash?: string } | undefined)?.sha256Hash);
      return forward(operation);
    });
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([
        new PersistedQueryLink({
          // The reviewed id by operation name; anything else hashes to an id the server does not know.
          generateHash: (document) => partnerOperationIds[operationName(document)] ?? createHash('sha256').update(print(document)).digest('hex'),
        }),
        spy,
        new HttpLink({ uri: `${api.url}/partner/graphql`, headers: { authorization: `Bearer ${acme}` } }),
      ]),
    });

    const posted = await client.mutate({ mutation: PostPurchaseDocument, variables: purchase(m.id, 'AC-1001', '250.00') });
    expect(posted.data?.earnPoints).toMatchObject({ points: 250, status: 'POSTED', duplicate: false, member: { id: m.id, balance: 250 } });
    const read = await client.query({ query: MemberByExternalIdDocument, variables: { externalId: 'apollo-client-1' }, fetchPolicy: 'network-only' });
    expect(read.data?.memberByExternalId).toMatchObject({ id: m.id, balance: 250, tier: { level: 1 } });

    const freeForm = gql`
      query Tiers {
        tiers {
          name
        }
      }
    `;
    const refused = await client.query({ query: freeForm, fetchPolicy: 'network-only' }).then(
      () => null,
      (error: { errors?: { extensions?: { code?: string } }[] }) => error,
    );
    expect(refused?.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    // The link named the reviewed operations by their manifest ids.
    expect(sent.slice(0, 2)).toEqual([partnerOperationIds.PostPurchase, partnerOperationIds.MemberByExternalId]);
  });
});

describe('the door of /partner/graphql', () => {
  it('refuses a free-form query, an unknown id, a malformed request, and names the operation by documentId too', async () => {
    expect((await partnerPost(api, { query: '{ tiers { name } }' }, acme)).errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const withBoth = await partnerPost(api, { query: '{ tiers { name } }', ...byHash(partnerOperationIds.MemberByExternalId, { externalId: 'x' }) }, acme);
    expect(withBoth.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect((await partnerPost(api, byHash('0'.repeat(64)), acme)).errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await partnerPost(api, { documentId: `sha256:${'f'.repeat(64)}` }, acme)).errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await partnerPost(api, { variables: {} }, acme)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const byDocumentId = await partnerPost(api, { documentId: `sha256:${partnerOperationIds.MemberByExternalId}`, variables: { externalId: 'nobody' } }, acme);
    expect(byDocumentId.errors).toBeUndefined();
    expect(byDocumentId.data).toEqual({ memberByExternalId: null });
  });

  it('validates variables as usual', async () => {
    const res = await partnerCall(api, PostPurchaseDocument, purchase('not-a-uuid', 'V-1', '-5') as never, acme);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await partnerPost(api, byHash(partnerOperationIds.PostPurchase, {}), acme);
    expect(missing.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("refuses an operation outside the partner's allow-list", async () => {
    const till = tokens.partner('till');
    const m = await createMember(api);
    const res = await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'TILL-1'), till);
    expect(res.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    expect((await partnerCall(api, MemberByExternalIdDocument, { externalId: 'none' }, till)).data).toEqual({ memberByExternalId: null });
    expect(await balance(m.id)).toBe(0);
  });

  it('takes partner tokens only; /graphql and its socket refuse them', async () => {
    const m = await createMember(api);
    for (const token of [tokens.admin(), m.token]) {
      const res = await partnerCall(api, MemberByExternalIdDocument, { externalId: 'x' }, token);
      expect(res.status).toBe(403);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const anonymous = await partnerPost(api, byHash(partnerOperationIds.MemberByExternalId, { externalId: 'x' }), null);
    expect([anonymous.status, anonymous.errors?.[0].extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);

    const onGraphql = await api.gql('{ tiers { name } }', {}, acme);
    expect(onGraphql.status).toBe(403);
    expect(onGraphql.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(onGraphql.errors?.[0].message).toContain('/partner/graphql');

    const socket = api.ws(acme);
    const closed = await new Promise<number>((resolve) => socket.on('closed', (event) => resolve((event as { code: number }).code)));
    expect(closed).toBe(4403);
  });
});

async function balance(memberId: string): Promise<number> {
  return (await api.ok('query($id: ID!) { member(id: $id) { balance } }', { id: memberId })).member.balance;
}

describe('orders belong to the partner that posted them', () => {
  it('lets two partners use the same order id, and only the owner reverse it', async () => {
    const a = await createMember(api);
    const b = await createMember(api);
    const fromAcme = await partnerCall(api, PostPurchaseDocument, purchase(a.id, '1001', '100.00'), acme);
    const fromGlobex = await partnerCall(api, PostPurchaseDocument, purchase(b.id, '1001', '300.00'), globex);
    expect(fromAcme.data?.earnPoints).toMatchObject({ points: 100, duplicate: false });
    expect(fromGlobex.data?.earnPoints).toMatchObject({ points: 300, duplicate: false });
    // Idempotent per partner: acme's repeat is a duplicate, not globex's order.
    expect((await partnerCall(api, PostPurchaseDocument, purchase(a.id, '1001', '100.00'), acme)).data?.earnPoints.duplicate).toBe(true);

    // Globex cannot reverse an order only acme has: NOT_FOUND, as if it did not exist.
    await partnerCall(api, PostPurchaseDocument, purchase(a.id, 'ACME-ONLY-1', '50.00'), acme);
    const fromOther = await partnerCall(api, ReversePurchaseDocument, { input: { orderId: 'ACME-ONLY-1', reason: '退货' } }, globex);
    expect(fromOther.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await balance(a.id)).toBe(150);

    const reversed = await partnerCall(api, ReversePurchaseDocument, { input: { orderId: '1001', reason: '退货' } }, globex);
    expect(reversed.data?.reverseEarn).toMatchObject({ pointsReversed: 300, shortfall: 0, member: { id: b.id, balance: 0 } });
    expect(await balance(a.id)).toBe(150);
  });

  it('scopes task-completion references per partner', async () => {
    const code = `review-${Date.now()}`;
    await api.ok('mutation($input: TaskInput!) { upsertTask(input: $input) { id } }', { input: { code, name: '写评价', frequency: 'DAILY', points: 20 } });
    const a = await createMember(api);
    const b = await createMember(api);
    const first = await partnerCall(api, RecordTaskCompletionDocument, { memberId: a.id, code, reference: 'REV-1' }, acme);
    const other = await partnerCall(api, RecordTaskCompletionDocument, { memberId: b.id, code, reference: 'REV-1' }, globex);
    expect(first.data?.recordTaskCompletion.pointsAwarded).toBe(20);
    expect(other.data?.recordTaskCompletion.pointsAwarded).toBe(20);
    // The same partner's reference for another member is still a conflict.
    expect((await partnerCall(api, RecordTaskCompletionDocument, { memberId: b.id, code, reference: 'REV-1' }, acme)).errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it("shows members the partner's display name, never an admin's subject; admins see the stored source", async () => {
    const m = await createMember(api);
    await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'SRC-1'), acme);
    await api.ok(
      'mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) { id } }',
      {
        input: { memberId: m.id, delta: 5, reason: '补偿', idempotencyKey: `src-${m.id}` },
      },
      tokens.admin('alice@ops'),
    );
    const query = 'query($id: ID!) { member(id: $id) { ledger { edges { node { type source } } } } }';
    const seen = async (token: string) => (await api.ok(query, { id: m.id }, token)).member.ledger.edges.map((e: { node: { type: string; source: string } }) => `${e.node.type}:${e.node.source}`);
    expect(await seen(m.token)).toEqual(['ADJUSTMENT:admin', 'PURCHASE:Acme 商城']);
    expect(await seen(tokens.admin())).toEqual(['ADJUSTMENT:admin:alice@ops', 'PURCHASE:partner:acme']);
    // A partner reading the ledger page sees what a member sees.
    const page = await partnerCall(api, MemberLedgerDocument, { memberId: m.id }, globex);
    expect(page.data?.member?.ledger.edges.map((e) => e.node.source)).toEqual(['admin', 'Acme 商城']);
    expect(JSON.stringify(page.data)).not.toContain('alice');
  });

  it('counts the hourly purchase limit per partner and member, and only purchases that earned or wait for review', async () => {
    const m = await createMember(api);
    for (let i = 0; i < 9; i += 1) expect((await partnerCall(api, PostPurchaseDocument, purchase(m.id, `LIM-${i}`, '10.00'), acme)).errors).toBeUndefined();
    const held = await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'LIM-HELD', '20000.00'), acme);
    expect(held.data?.earnPoints.status).toBe('HELD_FOR_REVIEW');
    const limited = await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'LIM-10', '10.00'), acme);
    expect(limited.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    // Another partner's purchases for the same member are not locked out.
    expect((await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'LIM-10', '10.00'), globex)).data?.earnPoints.status).toBe('POSTED');
    // A purchase rejected on review no longer counts.
    await api.ok('mutation($id: ID!) { rejectHeldEntry(entryId: $id, reason: "junk") { status } }', { id: held.data!.earnPoints.entry.id });
    expect((await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'LIM-10', '10.00'), acme)).data?.earnPoints.status).toBe('POSTED');
  });

  it('keeps coupon codes from partners: a till uses a code it is shown', async () => {
    const res = await partnerCall(api, UseCouponDocument, { code: 'NOPE-NOPE-NOPE-NOPE' }, tokens.partner('till'));
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('the per-partner rate limit', () => {
  it('is one bucket shared by all instances, refused with retryAfterMs, and refilled after the window', async () => {
    const tiny = tokens.partner('tiny');
    const call = (on: TestApp) => partnerCall(on, MemberByExternalIdDocument, { externalId: 'none' }, tiny);
    expect((await call(api)).errors).toBeUndefined();
    expect((await call(second)).errors).toBeUndefined();
    const refused = await call(api);
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    expect((await call(second)).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    // Other partners have their own buckets.
    expect((await partnerCall(second, MemberByExternalIdDocument, { externalId: 'none' }, acme)).errors).toBeUndefined();
    api.clock.advance(1000);
    expect((await call(second)).errors).toBeUndefined();
    expect((await call(api)).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  });

  it('serves exactly the bucket across instances when each takes tokens a few at a time (leases of burst/10)', async () => {
    const leased = tokens.partner('leased');
    const call = (on: TestApp) => partnerCall(on, MemberByExternalIdDocument, { externalId: 'none' }, leased);
    const served = [];
    for (let i = 0; i < 40; i += 1) served.push((await call(i % 2 ? second : api)).errors?.[0].extensions?.code ?? 'OK');
    expect(served.every((code) => code === 'OK')).toBe(true);
    expect((await call(api)).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect((await call(second)).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  });
});

describe('the partner audit', () => {
  it('records every outcome, queryable by admins as partnerCalls, and counts them in /metrics', async () => {
    const auditor = tokens.partner('audited');
    await second.app.partnerAudit.flush();
    await api.app.partnerAudit.flush();
    const before = api.clock.now().toISOString();
    const m = await createMember(api);
    const outcomes = [
      await partnerCall(api, MemberByExternalIdDocument, { externalId: 'none' }, auditor), // OK
      await partnerCall(api, ReversePurchaseDocument, { input: { orderId: 'nope', reason: 'x' } }, auditor), // NOT_FOUND
      await partnerPost(api, { query: '{ tiers { name } }' }, auditor), // PERSISTED_QUERY_NOT_ALLOWED
      await partnerPost(api, byHash('1'.repeat(64)), auditor), // PERSISTED_QUERY_NOT_FOUND (the bucket of 4 is now empty)
      await partnerCall(api, PostPurchaseDocument, purchase(m.id, 'AUD-1'), auditor), // RATE_LIMITED
    ];
    expect(outcomes.map((o) => o.errors?.[0].extensions?.code ?? 'OK')).toEqual(['OK', 'NOT_FOUND', 'PERSISTED_QUERY_NOT_ALLOWED', 'PERSISTED_QUERY_NOT_FOUND', 'RATE_LIMITED']);
    // Refused before identity is known: counted in metrics, not in a partner's trail.
    await partnerPost(api, byHash(partnerOperationIds.MemberByExternalId), tokens.admin());
    await api.app.partnerAudit.flush();

    const PAGE = `query($partnerId: String, $since: DateTime, $first: Int, $after: String) {
      partnerCalls(partnerId: $partnerId, since: $since, first: $first, after: $after) {
        edges { node { partnerId operationName code durationMs requestId at } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await api.ok(PAGE, { partnerId: 'audited', since: before, first: 3 })).partnerCalls;
    const rest = (await api.ok(PAGE, { partnerId: 'audited', since: before, first: 3, after: first.pageInfo.endCursor })).partnerCalls;
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const rows = [...first.edges, ...rest.edges].map((e: { node: Record<string, unknown> }) => e.node).reverse();
    expect(rows.map((r) => [r.operationName, r.code])).toEqual([
      ['MemberByExternalId', 'OK'],
      ['ReversePurchase', 'NOT_FOUND'],
      [null, 'PERSISTED_QUERY_NOT_ALLOWED'],
      [null, 'PERSISTED_QUERY_NOT_FOUND'],
      [null, 'RATE_LIMITED'],
    ]);
    for (const row of rows) {
      expect(row.partnerId).toBe('audited');
      expect(row.requestId).toMatch(/^[\w.:-]+$/);
      expect(row.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(JSON.stringify(rows)).not.toContain(m.id);
    expect(await api.code('{ partnerCalls { edges { cursor } } }', {}, m.token)).toBe('FORBIDDEN');

    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/partner_calls_total\{partner="audited",operation="ReversePurchase",code="NOT_FOUND"\} 1/);
    expect(metrics).toMatch(/partner_calls_total\{partner="none",operation="none",code="FORBIDDEN"\} [1-9]/);
  });
});
