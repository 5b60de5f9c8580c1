import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/jwt';
import { startApp, wsExecute, type GraphQLResponse, type TestApp } from '../support/app';
import { uniqueMobile } from '../support/factories';
import { jwtSettings, tokens } from '../support/tokens';

/** A refused document: only BAD_USER_INPUT errors, each with the reason GraphQL gave, and no data. */
function expectRefused(res: GraphQLResponse, message: RegExp, reason: string) {
  expect(res.data ?? null, JSON.stringify(res.data)).toBeNull();
  expect(res.errors?.length, JSON.stringify(res)).toBeGreaterThan(0);
  for (const error of res.errors!) {
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(typeof error.extensions?.reason).toBe('string');
  }
  const match = res.errors!.find((e) => message.test(e.message));
  expect(match, `no error matches ${message}: ${JSON.stringify(res.errors)}`).toBeDefined();
  expect(match!.extensions?.reason).toBe(reason);
}

const aliases = (n: number, field = 'tiers { id }') => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
/** Nesting that no schema has: validation measures the depth all the same. */
const depth30 = `{ me { tier { id ${'{ x '.repeat(27)}${'} '.repeat(27)}} } }`;

describe('document limits', async () => {
  const api = await startApp();
  const admin = tokens.admin();

  /** Runs a registration that must be refused before any resolver runs; then checks nobody was registered. */
  async function expectNotRegistered(mobile: string) {
    const data = await api.ok('query($s: String) { members(filter: { search: $s }) { totalCount } }', { s: mobile });
    expect(data.members.totalCount, `member ${mobile} was registered`).toBe(0);
  }
  const register = (mobile: string, selection = 'id') => `registerMember(input: { mobile: "${mobile}", nickname: "limits" }) { ${selection} }`;

  it('lets an ordinary registration through (control for the refusals below)', async () => {
    const mobile = uniqueMobile();
    await api.ok(`mutation { ${register(mobile)} }`, {}, admin);
    const data = await api.ok('query($s: String) { members(filter: { search: $s }) { totalCount } }', { s: mobile });
    expect(data.members.totalCount).toBe(1);
  });

  it('refuses a depth-30 query on HTTP (400) and over WebSocket', async () => {
    const http = await api.gql(depth30, {}, admin);
    expect(http.status).toBe(400);
    expectRefused(http, /depth limit of 10 exceeded, found 30/, 'GRAPHQL_VALIDATION_FAILED');
    expectRefused(await wsExecute(api.ws(admin), depth30), /depth limit of 10 exceeded, found 30/, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses 1,000 aliases on HTTP and over WebSocket', async () => {
    const query = aliases(1000);
    const http = await api.gql(query, {}, admin);
    expect(http.status).toBe(400);
    // 1,000 aliases are also over 3,000 tokens, so the parser refuses them first.
    expectRefused(http, /more th\w+ 3000 tokens/, 'GRAPHQL_PARSE_FAILED');
    expectRefused(await wsExecute(api.ws(admin), query), /more th\w+ 3000 tokens/, 'GRAPHQL_PARSE_FAILED');
  });

  it('allows 15 aliases and refuses 16, on HTTP and over WebSocket, before any resolver runs', async () => {
    const ok = await api.gql(aliases(15), {}, admin);
    expect(ok.errors).toBeUndefined();
    expect(Object.keys(ok.data)).toHaveLength(15);

    const http = await api.gql(aliases(16), {}, admin);
    expect(http.status).toBe(400);
    expectRefused(http, /^Syntax Error: Aliases limit of 15 exceeded, found 16\.$/, 'GRAPHQL_VALIDATION_FAILED');
    expect(http.errors).toHaveLength(1);
    expectRefused(await wsExecute(api.ws(admin), aliases(16)), /Aliases limit of 15 exceeded, found 16/, 'GRAPHQL_VALIDATION_FAILED');

    const mobiles = Array.from({ length: 16 }, () => uniqueMobile());
    const mutation = `mutation { ${mobiles.map((m, i) => `r${i}: ${register(m)}`).join(' ')} }`;
    expectRefused(await api.gql(mutation, {}, admin), /Aliases limit/, 'GRAPHQL_VALIDATION_FAILED');
    expectRefused(await wsExecute(api.ws(admin), mutation), /Aliases limit/, 'GRAPHQL_VALIDATION_FAILED');
    for (const mobile of mobiles) await expectNotRegistered(mobile);
  });

  it('refuses a document over the token limit, on HTTP and over WebSocket, before any resolver runs', async () => {
    const mobile = uniqueMobile();
    const mutation = `mutation { ${register(mobile, `id ${'__typename '.repeat(3000)}`)} }`;
    const http = await api.gql(mutation, {}, admin);
    expect(http.status).toBe(400);
    expectRefused(http, /Document contains more th\w+ 3000 tokens/, 'GRAPHQL_PARSE_FAILED');
    expectRefused(await wsExecute(api.ws(admin), mutation), /more th\w+ 3000 tokens/, 'GRAPHQL_PARSE_FAILED');
    await expectNotRegistered(mobile);
  });

  it('refuses a query over the cost limit (a literal page size counts)', async () => {
    const query = '{ members(first: 1000) { edges { node { id nickname } } } }';
    expectRefused(await api.gql(query, {}, admin), /Cost limit of 5000 exceeded/, 'GRAPHQL_VALIDATION_FAILED');
    expectRefused(await wsExecute(api.ws(admin), query), /Cost limit of 5000 exceeded/, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses by depth alone a valid document deeper than a lowered limit, without running it', async () => {
    const shallow = await startApp({ sharing: api, env: { GRAPHQL_MAX_DEPTH: '3' } });
    const mobile = uniqueMobile();
    expect((await shallow.ok('{ me { tier { level } } }', {}, admin)).me).toBeNull(); // depth 3 passes
    const mutation = `mutation { ${register(mobile, 'nextTier { tier { level } }')} }`;
    const http = await shallow.gql(mutation, {}, admin);
    expectRefused(http, /^Syntax Error: Query depth limit of 3 exceeded, found 4\.$/, 'GRAPHQL_VALIDATION_FAILED');
    expect(http.errors).toHaveLength(1);
    expectRefused(await wsExecute(shallow.ws(admin), mutation), /depth limit of 3 exceeded/, 'GRAPHQL_VALIDATION_FAILED');
    await expectNotRegistered(mobile);
  });

  it('with a larger token budget, still refuses 1,000 aliases by the alias rule', async () => {
    const roomy = await startApp({ sharing: api, env: { GRAPHQL_MAX_TOKENS: '20000' } });
    const http = await roomy.gql(aliases(1000), {}, admin);
    expectRefused(http, /Aliases limit of 15 exceeded, found 1000/, 'GRAPHQL_VALIDATION_FAILED');
    expectRefused(await wsExecute(roomy.ws(admin), aliases(1000)), /Aliases limit of 15 exceeded, found 1000/, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('keeps the socket open after refusing a document', async () => {
    const client = api.ws(admin);
    expectRefused(await wsExecute(client, aliases(16)), /Aliases limit/, 'GRAPHQL_VALIDATION_FAILED');
    expect((await wsExecute(client, '{ tiers { level } }')).data.tiers).toHaveLength(4);
  });
});

describe('HTTP transport rules', async () => {
  const api = await startApp();
  const admin = tokens.admin();
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${api.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('refuses batched requests (a JSON array body) and runs none of them', async () => {
    const mobile = uniqueMobile();
    const res = await post([{ query: '{ tiers { id } }' }, { query: `mutation { registerMember(input: { mobile: "${mobile}", nickname: "batch" }) { id } }` }]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as GraphQLResponse;
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/batching/i), extensions: { code: 'BAD_USER_INPUT', reason: 'BAD_REQUEST' } });
    const data = await api.ok('query($s: String) { members(filter: { search: $s }) { totalCount } }', { s: mobile });
    expect(data.members.totalCount).toBe(0);
  });

  it('refuses a GET without a preflight header as a possible CSRF, and serves it with one', async () => {
    const url = `${api.url}/graphql?query=${encodeURIComponent('{tiers{id}}')}`;
    const refused = await fetch(url, { headers: { authorization: `Bearer ${admin}` } });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as GraphQLResponse;
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/CSRF/), extensions: { code: 'BAD_USER_INPUT' } });

    const served = await fetch(url, { headers: { authorization: `Bearer ${admin}`, 'apollo-require-preflight': 'true' } });
    expect(served.status).toBe(200);
    expect(((await served.json()) as GraphQLResponse).data.tiers).toHaveLength(4);
  });

  it('refuses a "simple" cross-site POST (text/plain)', async () => {
    const res = await post({ query: '{ tiers { id } }' }, { 'content-type': 'text/plain' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });

  it('refuses a mutation sent by GET and does not run it', async () => {
    const mobile = uniqueMobile();
    const query = `mutation { registerMember(input: { mobile: "${mobile}", nickname: "get" }) { id } }`;
    const res = await fetch(`${api.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { authorization: `Bearer ${admin}`, 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(405);
    const data = await api.ok('query($s: String) { members(filter: { search: $s }) { totalCount } }', { s: mobile });
    expect(data.members.totalCount).toBe(0);
  });

  it('answers introspection outside production, on HTTP and over WebSocket', async () => {
    const query = '{ __schema { queryType { name } } }';
    expect((await api.ok(query, {}, admin)).__schema.queryType.name).toBe('Query');
    expect((await wsExecute(api.ws(admin), query)).data.__schema.queryType.name).toBe('Query');
  });
});

describe('production', async () => {
  const secret = 'a-production-secret-of-at-least-32-bytes!';
  const api: TestApp = await startApp({ env: { NODE_ENV: 'production', JWT_SECRET: secret } });
  const admin = mintToken({ key: secret, issuer: jwtSettings.issuer, audience: jwtSettings.audience }, { role: 'admin', sub: 'prod-admin' });

  it('accepts tokens signed with its own secret only', async () => {
    expect((await api.ok('{ tiers { level } }', {}, admin)).tiers).toHaveLength(4);
    const dev = await api.gql('{ tiers { level } }', {}, tokens.admin());
    expect(dev.status).toBe(401);
    expect(dev.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses introspection on HTTP and over WebSocket, but still answers __typename', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Member") { name } }']) {
      const http = await api.gql(query, {}, admin);
      expect(http.status).toBe(400);
      expectRefused(http, /introspection/i, 'GRAPHQL_VALIDATION_FAILED');
      expectRefused(await wsExecute(api.ws(admin), query), /introspection/i, 'GRAPHQL_VALIDATION_FAILED');
    }
    expect((await api.ok('{ __typename }', {}, admin)).__typename).toBe('Query');
    expect((await wsExecute(api.ws(admin), '{ __typename }')).data.__typename).toBe('Query');
  });
});
