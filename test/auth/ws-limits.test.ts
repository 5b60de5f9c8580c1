import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startApp, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { tokens } from '../support/tokens';

interface Outcome {
  /** 'ack' when connection_init was accepted, else the close code. */
  result: 'ack' | number;
  reason: string;
  socket: WebSocket;
}

/** Opens a graphql-ws socket as a hostile client would (raw, any headers) and sends connection_init. */
function connect(api: TestApp, token: string | null, headers: Record<string, string> = {}, options: { autoPong?: boolean } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws', { headers, ...options });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} })));
    // ws delivers each message as one Buffer (binaryType 'nodebuffer', the default).
    socket.on('message', (data) => {
      if (JSON.parse((data as Buffer).toString('utf8')).type === 'connection_ack') resolve({ result: 'ack', reason: '', socket });
    });
    socket.once('close', (code, reason) => resolve({ result: code, reason: String(reason), socket }));
    socket.once('error', reject);
  });
}

const closed = (socket: WebSocket) =>
  new Promise<void>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', () => resolve());
    socket.close();
  });

describe('WebSocket connection caps', async () => {
  const api = await startApp({ env: { WS_MAX_CONNECTIONS_PER_PRINCIPAL: '2', WS_MAX_CONNECTIONS_PER_IP: '4' } });
  const proxied = await startApp({ sharing: api, env: { WS_MAX_CONNECTIONS_PER_PRINCIPAL: '50', WS_MAX_CONNECTIONS_PER_IP: '2', TRUST_PROXY: 'true' } });
  const pinging = await startApp({ sharing: api, env: { WS_KEEPALIVE_MS: '1000' } });
  const a = await createMember(api);
  const b = await createMember(api);

  it('closes a token subject’s socket over WS_MAX_CONNECTIONS_PER_PRINCIPAL with 4429, and frees the place on close', async () => {
    const first = await connect(api, a.token);
    const second = await connect(api, tokens.member(a.id)); // another token, same subject
    expect([first.result, second.result]).toEqual(['ack', 'ack']);
    const third = await connect(api, a.token);
    expect(third.result).toBe(4429);
    expect(third.reason).toMatch(/At most 2 connections per token subject/);
    // Another member is not affected…
    const other = await connect(api, b.token);
    expect(other.result).toBe('ack');
    // …and a closed socket gives its place back.
    await closed(first.socket);
    const again = await connect(api, a.token);
    expect(again.result).toBe('ack');
    await Promise.all([second, other, again].map((o) => closed(o.socket)));
  });

  it('a refused token takes no place of its subject', async () => {
    const sockets = await Promise.all([connect(api, tokens.admin('admin-cap')), connect(api, tokens.admin('admin-cap'))]);
    expect(sockets.map((s) => s.result)).toEqual(['ack', 'ack']);
    expect((await connect(api, 'not-a-token')).result).toBe(4403);
    await Promise.all(sockets.map((o) => closed(o.socket)));
  });

  it('closes sockets over WS_MAX_CONNECTIONS_PER_IP with 4429, counting before any token is checked', async () => {
    const open = await Promise.all([1, 2, 3, 4].map((i) => connect(api, tokens.admin(`admin-ip-${i}`))));
    expect(open.map((o) => o.result)).toEqual(['ack', 'ack', 'ack', 'ack']);
    const extra = await connect(api, tokens.admin('admin-ip-5'));
    expect(extra.result).toBe(4429);
    expect(extra.reason).toMatch(/per address/);
    // Without TRUST_PROXY, X-Forwarded-For is the client's own text and changes nothing.
    expect((await connect(api, tokens.admin('admin-ip-6'), { 'x-forwarded-for': '203.0.113.9' })).result).toBe(4429);
    await Promise.all(open.map((o) => closed(o.socket)));
  });

  it('behind a trusted proxy counts the address the proxy appended, not one the client wrote', async () => {
    const viaProxy = (client: string) => ({ 'x-forwarded-for': client });
    const one = await Promise.all([connect(proxied, tokens.admin('p1'), viaProxy('198.51.100.1')), connect(proxied, tokens.admin('p2'), viaProxy('198.51.100.1'))]);
    expect(one.map((o) => o.result)).toEqual(['ack', 'ack']);
    expect((await connect(proxied, tokens.admin('p3'), viaProxy('198.51.100.1'))).result).toBe(4429);
    // A spoofed first entry does not make a new address: the proxy's entry (last) is what counts.
    expect((await connect(proxied, tokens.admin('p4'), viaProxy('1.2.3.4, 198.51.100.1'))).result).toBe(4429);
    expect((await connect(proxied, tokens.admin('p5'), viaProxy('198.51.100.2'))).result).toBe('ack');
    await Promise.all(one.map((o) => closed(o.socket)));
  });

  it('refuses a WebSocket message larger than the HTTP body limit (1009), as HTTP refuses such a body (413)', async () => {
    const ok = await connect(api, b.token);
    expect(ok.result).toBe('ack');
    const code = new Promise<number>((resolve) => ok.socket.once('close', (c) => resolve(c)));
    const big = 'x'.repeat(api.app.config.maxBodyBytes + 1);
    ok.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ __typename } # ${big}` } }));
    expect(await code).toBe(1009);

    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token}` },
      body: JSON.stringify({ query: `{ __typename } # ${big}` }),
    });
    expect(res.status).toBe(413);
  });

  it('pings each socket every WS_KEEPALIVE_MS, keeps one that answers and drops one that stops answering', async () => {
    const pings = (socket: WebSocket, count: number) =>
      new Promise<void>((resolve) => {
        let seen = 0;
        socket.on('ping', () => ++seen === count && resolve());
      });
    const answering = await connect(pinging, tokens.admin('alive'));
    const silent = await connect(pinging, tokens.admin('silent'), {}, { autoPong: false });
    expect([answering.result, silent.result]).toEqual(['ack', 'ack']);
    const silentClosed = new Promise<number>((resolve) => silent.socket.once('close', (code) => resolve(code)));
    // The silent socket is pinged, does not answer, and is terminated one interval later (no close frame: 1006).
    await pings(silent.socket, 1);
    expect(await silentClosed).toBe(1006);
    // The answering socket has meanwhile been pinged twice and is still open.
    await pings(answering.socket, 2);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    await closed(answering.socket);
  });
});
