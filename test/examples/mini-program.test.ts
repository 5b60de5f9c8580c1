import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startApp, untilSubscribed, type TestApp } from '../support/app';
import { createMember } from '../support/factories';
import { partnerCall } from '../support/partner';
import { tokens } from '../support/tokens';
import { PostPurchaseDocument } from '../../schema/generated/graphql';
import { wxWebSocket, type Wx, type WxSocketTask } from '../../examples/mini-program/wx-websocket';

/**
 * A fake `wx` that follows the mini-program API (connectSocket returns a SocketTask whose
 * callbacks are registered after the call; send/close take option objects; at most 5 sockets
 * at once), backed by a real socket to the real server, so the adapter is proven end to end.
 */
function fakeWx(): Wx & { open: number; calls: string[] } {
  const wx = {
    open: 0,
    calls: [] as string[],
    connectSocket(options: Parameters<Wx['connectSocket']>[0]): WxSocketTask {
      wx.calls.push('connectSocket');
      const handlers: { open?: (r: object) => void; message?: (r: { data: string }) => void; close?: (r: { code: number; reason: string }) => void; error?: (r: { errMsg: string }) => void } = {};
      if (wx.open >= 5) {
        queueMicrotask(() => options.fail?.({ errMsg: 'connectSocket:fail exceed max socket connect count 5' }));
        return { onOpen() {}, onMessage() {}, onClose() {}, onError() {}, send() {}, close() {} };
      }
      wx.open++;
      const socket = new WebSocket(options.url, options.protocols);
      socket.on('open', () => handlers.open?.({ header: {} }));
      // ws delivers each message as one Buffer (binaryType 'nodebuffer', the default).
      socket.on('message', (data) => handlers.message?.({ data: (data as Buffer).toString('utf8') }));
      socket.on('error', (error) => handlers.error?.({ errMsg: error.message }));
      socket.on('close', (code, reason) => {
        wx.open--;
        handlers.close?.({ code, reason: reason.toString() });
      });
      return {
        onOpen: (cb) => (handlers.open = cb),
        onMessage: (cb) => (handlers.message = cb as typeof handlers.message),
        onClose: (cb) => (handlers.close = cb),
        onError: (cb) => (handlers.error = cb),
        send: ({ data, success, fail }) => {
          wx.calls.push('send');
          socket.send(data, (error) => (error ? fail?.({ errMsg: error.message }) : success?.()));
        },
        close: ({ code, reason }) => {
          wx.calls.push('close');
          socket.close(code, reason);
        },
      };
    },
  };
  return wx;
}

function client(api: TestApp, wx: Wx, token: string | null): Client {
  return createClient({
    url: api.wsUrl,
    webSocketImpl: wxWebSocket(wx),
    retryAttempts: 0,
    lazy: true,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

describe('mini-program adapter: graphql-ws over wx.connectSocket', () => {
  it('carries a live subscription and a query over one wx socket', async () => {
    const api = await startApp();
    const member = await createMember(api);
    const wx = fakeWx();
    const c = client(api, wx, tokens.member(member.id));
    const balances: number[] = [];
    const first = new Promise<void>((resolve, reject) => {
      const stop = c.subscribe<{ balanceChanged: { balance: number } }>(
        { query: 'subscription { balanceChanged { balance } }' },
        {
          next: (v) => {
            balances.push(v.data!.balanceChanged.balance);
            stop();
            resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    const me = await new Promise<{ me: { balance: number } }>((resolve, reject) => {
      let value: unknown;
      c.subscribe({ query: '{ me { balance } }' }, { next: (v) => (value = v.data), error: reject, complete: () => resolve(value as { me: { balance: number } }) });
    });
    expect(me.me.balance).toBe(0);
    await untilSubscribed(api, `BALANCE:${member.id}`);
    const posted = await partnerCall(api, PostPurchaseDocument, { input: { memberId: member.id, orderId: 'mp-1', amount: '100.00' } });
    await first;
    expect(balances).toEqual([posted.data!.earnPoints.member.balance]);
    expect(wx.calls.filter((c) => c === 'connectSocket')).toHaveLength(1);
    await c.dispose();
    expect(wx.calls).toContain('close');
  });

  it('reports the server closing the socket (bad token: 4403) to graphql-ws', async () => {
    const api = await startApp();
    const c = client(api, fakeWx(), 'not-a-token');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => c.on('closed', (event) => resolve(event as { code: number; reason: string })));
    const result = new Promise<unknown>((resolve) => c.subscribe({ query: '{ tiers { name } }' }, { next: () => {}, error: resolve, complete: () => resolve(null) }));
    const event = await closed;
    expect(event.code).toBe(4403);
    expect(event.reason).toMatch(/Forbidden/);
    expect(await result).toBeTruthy();
    await c.dispose();
  });

  it('turns a refused wx.connectSocket (the 5-socket limit) into a close graphql-ws sees', async () => {
    const api = await startApp();
    const wx = fakeWx();
    wx.open = 5;
    const c = client(api, wx, tokens.admin());
    const closed = new Promise<{ code: number; reason: string }>((resolve) => c.on('closed', (event) => resolve(event as { code: number; reason: string })));
    c.subscribe({ query: '{ tiers { name } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    const event = await closed;
    expect(event.code).toBe(1006);
    expect(event.reason).toMatch(/exceed max socket connect count 5/);
    await c.dispose();
  });
});
