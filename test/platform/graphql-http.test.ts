import { describe, expect, it, vi } from 'vitest';
import { startApp, type GraphQLResponse } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';

/**
 * POST /graphql is served from node:http straight into Apollo (issue 14, platform/graphql/http.ts);
 * what the Express door answered must not change, and what it answered badly is now JSON.
 */
const json = async (res: Response) => (await res.json()) as Omit<GraphQLResponse, 'status'>;

describe('POST /graphql over node:http', async () => {
  const api = await startApp();
  const admin = tokens.admin();
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers }, body });

  it('answers a body that is not JSON with 400 and a JSON error, not an HTML page', async () => {
    const res = await post('{"query": "{ tiers { level } }"');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses a body over the limit with 413 whether or not it declares its length, and the connection serves the next request', async () => {
    const big = JSON.stringify({ query: '{ tiers { level } }', variables: { pad: 'x'.repeat(120_000) } });
    expect((await post(big)).status).toBe(413);
    // Streamed (chunked, no content-length): the limit is counted as it arrives.
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 40_000, (i + 1) * 40_000)));
        controller.close();
      },
    });
    const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: chunked, duplex: 'half' });
    expect(res.status).toBe(413);
    expect((await json(res)).errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    const next = await post(JSON.stringify({ query: '{ tiers { level } }' }));
    expect(next.status).toBe(200);
    expect((await json(next)).data.tiers.length).toBeGreaterThan(0);
  });

  it('serves JSON with a charset, and a query string beside the body', async () => {
    const res = await fetch(`${api.url}/graphql?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('still refuses a partner token (403) and a missing token (401) with their codes', async () => {
    const partner = await post(JSON.stringify({ query: '{ __typename }' }), { authorization: `Bearer ${tokens.partner()}` });
    expect(partner.status).toBe(403);
    expect((await json(partner)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const anonymous = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('builds no EntityManager, loaders or child logger for an operation that needs none (the context is lazy)', async () => {
    const member = await createMember(api);
    const forks = vi.spyOn(api.app.orm.em, 'fork');
    const children = vi.spyOn(api.app.log, 'child');
    try {
      const floor = await post(JSON.stringify({ query: '{ __typename }' }), { authorization: `Bearer ${tokens.member(member.id)}` });
      expect(await json(floor)).toEqual({ data: { __typename: 'Query' } });
      expect(forks).not.toHaveBeenCalled();
      expect(children).not.toHaveBeenCalled();
      // Control: an operation that reads through the ORM forks one EntityManager, once.
      const listed = await post(JSON.stringify({ query: '{ members(first: 1) { totalCount } }' }));
      expect((await json(listed)).data.members.totalCount).toBeGreaterThan(0);
      expect(forks).toHaveBeenCalledTimes(1);
    } finally {
      forks.mockRestore();
      children.mockRestore();
    }
  });

  describe('request errors by Accept (GraphQL over HTTP: 200 for application/json)', () => {
    const cases: [string, { query: string; variables?: Record<string, unknown> }, string][] = [
      ['parse', { query: '{ tiers { level }' }, 'GRAPHQL_PARSE_FAILED'],
      ['validation', { query: '{ tiers { nope } }' }, 'GRAPHQL_VALIDATION_FAILED'],
      ['variable coercion', { query: 'query($f: Int!) { members(first: $f) { totalCount } }', variables: { f: 'abc' } }, 'BAD_USER_INPUT'],
      ['operation resolution', { query: 'query A { tiers { id } } query B { tiers { level } }' }, 'OPERATION_RESOLUTION_FAILURE'],
    ];
    for (const [kind, body, reason] of cases) {
      it(`answers a ${kind} failure with 200 to application/json and 400 to application/graphql-response+json, with the same codes`, async () => {
        const asJson = await post(JSON.stringify(body), { accept: 'application/json' });
        const asGraphQL = await post(JSON.stringify(body), { accept: 'application/graphql-response+json' });
        expect(asJson.status).toBe(200);
        expect(asGraphQL.status).toBe(400);
        expect(asJson.headers.get('content-type')).toMatch(/^application\/json/);
        expect(asGraphQL.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
        const [a, b] = [await json(asJson), await json(asGraphQL)];
        expect(a).toEqual(b);
        expect(a.data).toBeUndefined();
        expect(a.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason });
      });
    }

    it('keeps 400 for a wildcard Accept, prefers the higher q, and treats no Accept as application/json', async () => {
      const bad = JSON.stringify({ query: '{ tiers { nope } }' });
      expect((await post(bad, { accept: '*/*' })).status).toBe(400);
      expect((await post(bad, { accept: 'application/graphql-response+json;q=0.5, application/json' })).status).toBe(200);
      expect((await post(bad, { accept: 'application/json;q=0.5, application/graphql-response+json' })).status).toBe(400);
      // No Accept at all: node:http, since fetch always sends one.
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(bad);
      });
      expect(status).toBe(200);
    });

    it('answers a body that is not JSON with 200 to application/json, the same error', async () => {
      const res = await post('{"query"', { accept: 'application/json' });
      expect(res.status).toBe(200);
      expect((await json(res)).errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    });

    it('leaves errors raised while executing, and refusals before Apollo, as they were', async () => {
      const anonymous = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(anonymous.status).toBe(401);
      const csrf = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', accept: 'application/json', authorization: `Bearer ${admin}` },
        body: '{"query":"{ __typename }"}',
      });
      expect(csrf.status).toBe(400);
    });
  });
});
