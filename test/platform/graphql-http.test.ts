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
    const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: chunked, duplex: 'half' } as RequestInit);
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
});
