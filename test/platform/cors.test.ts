import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startApp } from '../support/app';
import { tokens } from '../support/tokens';
import { loadConfig, ConfigError } from '../../src/platform/config';

const ALLOWED = 'http://localhost:5173';
const FOREIGN = 'https://evil.example';

describe('CORS for browsers (CORS_ORIGINS)', () => {
  it('answers a preflight from an allowed origin and serves its POST, without credentials', async () => {
    const api = await startApp({ env: { CORS_ORIGINS: `${ALLOWED},http://localhost:5174` } });
    const preflight = await fetch(`${api.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('apollo-require-preflight');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const res = await api.gql('{ tiers { name } }', {}, tokens.admin(), { headers: { origin: ALLOWED } });
    expect(res.errors).toBeUndefined();
    expect(res.data.tiers.length).toBeGreaterThan(0);
    const post = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json', authorization: `Bearer ${tokens.admin()}` },
      body: JSON.stringify({ query: '{ tiers { name } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(post.headers.get('vary')).toMatch(/origin/i);
    expect(post.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('gives a disallowed origin no CORS headers, on the preflight and on the POST', async () => {
    const api = await startApp({ env: { CORS_ORIGINS: ALLOWED } });
    const preflight = await fetch(`${api.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: FOREIGN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
    const post = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { origin: FOREIGN, 'content-type': 'application/json', authorization: `Bearer ${tokens.admin()}` },
      body: JSON.stringify({ query: '{ tiers { name } }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
    // A look-alike of an allowed origin is another origin.
    const lookalike = await fetch(`${api.url}/graphql`, { method: 'OPTIONS', headers: { origin: `${ALLOWED}.evil.example`, 'access-control-request-method': 'POST' } });
    expect(lookalike.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('opens the socket for an allowed origin and refuses a foreign one at the upgrade', async () => {
    const api = await startApp({ env: { CORS_ORIGINS: ALLOWED } });
    const open = (origin: string) =>
      new Promise<{ opened: boolean; status?: number }>((resolve) => {
        const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws', { origin });
        socket.once('open', () => {
          socket.close();
          resolve({ opened: true });
        });
        socket.once('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode }));
        socket.once('error', () => resolve({ opened: false }));
      });
    expect(await open(FOREIGN)).toEqual({ opened: false, status: 403 });
    expect((await open(ALLOWED)).opened).toBe(true);

    // And a whole graphql-ws session from the allowed origin runs a query.
    class BrowserLikeSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { origin: ALLOWED });
      }
    }
    const client = createClient({ url: api.wsUrl, webSocketImpl: BrowserLikeSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${tokens.admin()}` } });
    const result = await new Promise<unknown>((resolve, reject) => {
      let value: unknown;
      client.subscribe({ query: '{ tiers { name } }' }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
    });
    expect((result as { data: { tiers: unknown[] } }).data.tiers.length).toBeGreaterThan(0);
    await client.dispose();
  });

  it('defaults to the examples in development and to nobody in production; rejects a non-origin', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).corsOrigins).toEqual(['http://localhost:5173', 'http://localhost:5174']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), CORS_ORIGINS: 'https://m.example.com' }).corsOrigins).toEqual(['https://m.example.com']);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://m.example.com/app' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://m.example.com/app' })).toThrow(/CORS_ORIGINS/);
  });
});
