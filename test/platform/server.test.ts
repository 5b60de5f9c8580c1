import { describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('server', async () => {
  const api = await startApp();

  it('answers /healthz without a token', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with every check ok', async () => {
    const res = await fetch(`${api.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { postgres: 'ok', redis: 'ok', shutdown: 'ok' } });
  });

  it('exposes per-operation latency in /metrics, labelled by operation name but never by member', async () => {
    const member = await createMember(api, { nickname: 'metered' });
    await api.ok('query MemberCard($id: ID!) { member(id: $id) { id nickname mobile } }', { id: member.id });
    await api.ok('query TierList { tiers { level } }', {}, member.token);
    await api.gql('query Broken { nope }', {}, tokens.admin());
    await api.ok(`query ${'L'.repeat(70)} { tiers { level } }`);

    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE graphql_operation_duration_seconds histogram');
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="MemberCard",type="query",outcome="ok"\} 1\n/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="TierList",type="query",outcome="ok"\} 1\n/);
    // A document that fails validation has no resolved operation, so no name: it counts as anonymous.
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="anonymous",type="unknown",outcome="error"\} 1\n/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="invalid",type="query",outcome="ok"\} 1\n/);
    expect(text).toContain('process_cpu_seconds_total'); // default process metrics
    for (const secret of [member.id, member.mobile, 'metered']) expect(text).not.toContain(secret);
  });

  it('bounds the number of operation names it labels', async () => {
    const fresh = await startApp({ sharing: api });
    // In batches, so that exactly Op0..Op199 arrive before Op200..Op204.
    for (let batch = 0; batch < 205; batch += 25) {
      await Promise.all(Array.from({ length: Math.min(25, 205 - batch) }, (_, i) => fresh.ok(`query Op${batch + i} { __typename }`)));
    }
    const text = await (await fetch(`${fresh.url}/metrics`)).text();
    const names = new Set([...text.matchAll(/graphql_operation_duration_seconds_count\{operation="([^"]+)"/g)].map((m) => m[1]));
    expect(names.size).toBe(201);
    expect(names.has('Op199')).toBe(true);
    expect(names.has('Op200')).toBe(false);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="other",type="query",outcome="ok"\} 5\n/);
    await fresh.stop();
  });

  it('echoes a well-formed x-request-id and generates one otherwise', async () => {
    const echoed = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': 'req-123.abc:9_X' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-123.abc:9_X');

    const generated = await fetch(`${api.url}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(UUID);
    const again = await fetch(`${api.url}/healthz`);
    expect(again.headers.get('x-request-id')).not.toBe(generated.headers.get('x-request-id'));

    for (const hostile of ['has spaces', 'x'.repeat(129), '<script>', 'a/b', '']) {
      const res = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': hostile } });
      expect(res.headers.get('x-request-id'), hostile).toMatch(UUID);
    }

    const served = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin()}`, 'x-request-id': 'trace-43' },
      body: JSON.stringify({ query: '{ tiers { level } }' }),
    });
    expect(served.status).toBe(200);
    expect(served.headers.get('x-request-id')).toBe('trace-43');
    const refused = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ tiers { level } }' }) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(UUID);
  });

  it('does not advertise the framework', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('refuses a body over 100 kB', async () => {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin()}` },
      body: JSON.stringify({ query: '{ tiers { level } }', variables: { pad: 'x'.repeat(120_000) } }),
    });
    expect(res.status).toBe(413);
  });

  it('stops: sockets are closed as going away (1001), the port closes, stopping twice is harmless', async () => {
    const second = await startApp({ sharing: api });
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    const client = second.ws(tokens.admin());
    const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
    await new Promise<void>((resolve) => client.on('connected', () => resolve()));
    await Promise.all([second.app.stop(), second.app.stop()]);
    expect(await closed).toBe(1001);
    await expect(fetch(`${second.url}/healthz`)).rejects.toThrow();
    // The first instance on the same database and Redis is untouched.
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });
});
