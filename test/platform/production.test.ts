import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startApp, wsExecute } from '../support/app';
import { mintToken } from '../../src/auth/jwt';
import { jwtSettings } from '../support/tokens';

/** A TCP proxy in front of the shared Redis, so this file can take "Redis" away without touching the real one. */
async function redisProxy() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(6379, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    /** Refuses new connections and cuts the open ones. */
    async down() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
    async up() {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
  };
}

const SECRET = 'production-test-secret-0123456789abcdef';

describe('NODE_ENV=production: less to learn from errors', async () => {
  const proxy = await redisProxy();
  const prod = await startApp({ env: { NODE_ENV: 'production', JWT_SECRET: SECRET, REDIS_URL: proxy.url } });
  const dev = await startApp({ sharing: prod, env: { REDIS_URL: proxy.url } });
  const adminProd = mintToken({ ...jwtSettings, key: SECRET }, { role: 'admin', sub: 'admin-prod' });
  const adminDev = mintToken(jwtSettings, { role: 'admin', sub: 'admin-dev' });
  // A misspelt field, argument and enum value: each would get a "Did you mean" from graphql-js.
  const probes = ['{ tiers { nmae } }', '{ members(frist: 1) { totalCount } }', '{ leaderboard(period: WEEKY) { totalMembers } }'];

  it('gives no "Did you mean" over HTTP or WebSocket in production; development still does', async () => {
    for (const query of probes) {
      const http = await prod.gql(query, {}, adminProd);
      expect(http.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(http.errors), query).not.toMatch(/Did you mean/);
      const client = prod.ws(adminProd);
      const ws = await wsExecute(client, query);
      await client.dispose();
      expect(ws.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(ws.errors), query).not.toMatch(/Did you mean/);
      expect(ws.errors?.[0]?.message).toBe(http.errors?.[0]?.message);

      const shown = await dev.gql(query, {}, adminDev);
      expect(JSON.stringify(shown.errors), query).toMatch(/Did you mean/);
    }
  });

  it('/readyz names the dependency that is down but not its error text', async () => {
    await proxy.down();
    try {
      const res = await fetch(`${prod.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Record<string, string> };
      expect(body.checks).toEqual({ postgres: 'ok', redis: 'unavailable', shutdown: 'ok' });
      // Development shows the error text, to help whoever is at the keyboard.
      const shown = (await (await fetch(`${dev.url}/readyz`)).json()) as { checks: Record<string, string> };
      expect(shown.checks.redis).not.toBe('ok');
      expect(shown.checks.redis).not.toBe('unavailable');
    } finally {
      await proxy.up();
    }
  });
});
