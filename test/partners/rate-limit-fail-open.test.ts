import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp } from '../support/app';
import { tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { MemberByExternalIdDocument } from '../../schema/generated/graphql';

/**
 * Redis vanishing under a running instance, simulated by a TCP proxy in front of the shared
 * Redis (which keeps serving everyone else): partners are still served, and a metric counts it.
 */
class RedisProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async open(): Promise<void> {
    const upstream = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    this.server = net.createServer((client) => {
      const redis = net.connect(Number(upstream.port || 6379), upstream.hostname);
      for (const socket of [client, redis]) {
        this.sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.pipe(redis).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Refuses new connections and cuts the open ones. */
  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

const proxy = new RedisProxy();
afterAll(() => proxy.cut());

describe('the partner rate limit when Redis is down', () => {
  it('fails open: the partner is served and partner_rate_limit_fail_open_total counts it', async () => {
    await proxy.open();
    const api = await startApp({ env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, PARTNERS: JSON.stringify({ tiny: { name: 'Tiny', ratePerSecond: 1, burst: 1 } }) } });
    const call = () => partnerCall(api, MemberByExternalIdDocument, { externalId: 'none' }, tokens.partner('tiny'));
    expect((await call()).errors).toBeUndefined();
    expect((await call()).errors?.[0].extensions?.code).toBe('RATE_LIMITED');

    await proxy.cut();
    const served = await call();
    expect(served.status).toBe(200);
    expect(served.errors).toBeUndefined();
    expect(served.data).toEqual({ memberByExternalId: null });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/partner_rate_limit_fail_open_total [1-9]/);

    // Redis back: the bucket applies again (it is still empty: the clock has not moved).
    await proxy.open();
    await expect.poll(async () => (await call()).errors?.[0].extensions?.code, { timeout: 10_000, interval: 100 }).toBe('RATE_LIMITED');
  });
});
