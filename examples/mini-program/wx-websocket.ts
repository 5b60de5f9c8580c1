/**
 * graphql-ws over WeChat's wx.connectSocket.
 *
 * A mini-program has no browser `WebSocket`: it has `wx.connectSocket`, which returns a
 * SocketTask with onOpen/onMessage/onClose/onError and send({data})/close({code, reason}).
 * graphql-ws's client only needs a constructor `(url, protocol)` and a socket with
 * `readyState`, `send`, `close` and the four `on*` handlers, so this class is that socket:
 *
 *   import { createClient } from 'graphql-ws';
 *   import { wxWebSocket } from './wx-websocket';
 *   const client = createClient({
 *     url: 'wss://api.example.com/graphql',
 *     webSocketImpl: wxWebSocket(wx),
 *     connectionParams: () => ({ authorization: `Bearer ${token}` }),
 *     keepAlive: 10_000,          // notice a socket that died while the phone slept
 *     retryAttempts: Infinity,    // and come back with backoff (graphql-ws's default wait)
 *   });
 *
 * Platform limits that shape it (WeChat docs, "wx.connectSocket"):
 * - at most 5 WebSocket connections at once per mini-program (base library ≥ 1.7.0; before
 *   that, one): a socket per subscription would run out on the third screen, so every
 *   subscription shares graphql-ws's one socket;
 * - the domain must be on the mini-program's list of socket domains, over wss:// (TLS) only;
 * - sockets of a mini-program in the background are closed after about 5 seconds: onHide has
 *   nothing to keep alive, and on onShow graphql-ws reconnects and the page re-reads its state;
 * - no Origin header: the server sees no browser origin and applies no CORS rule; the bearer
 *   token in connectionParams is the only credential.
 */

/** The part of SocketTask this adapter uses (WeChat mini-program API). */
export interface WxSocketTask {
  onOpen(callback: (result: { header?: Record<string, string> }) => void): void;
  onMessage(callback: (result: { data: string | ArrayBuffer }) => void): void;
  onClose(callback: (result: { code: number; reason: string }) => void): void;
  onError(callback: (result: { errMsg: string }) => void): void;
  send(options: { data: string | ArrayBuffer; success?: () => void; fail?: (result: { errMsg: string }) => void }): void;
  close(options: { code?: number; reason?: string; success?: () => void; fail?: (result: { errMsg: string }) => void }): void;
}

export interface Wx {
  connectSocket(options: {
    url: string;
    header?: Record<string, string>;
    protocols?: string[];
    timeout?: number;
    success?: () => void;
    fail?: (result: { errMsg: string }) => void;
  }): WxSocketTask;
}

/** The WebSocket constructor graphql-ws will call, backed by `wx`. */
export function wxWebSocket(wx: Wx) {
  return class WxWebSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;

    readyState = WxWebSocket.CONNECTING;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: string }) => void) | null = null;
    onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    private readonly task: WxSocketTask;

    constructor(url: string, protocols?: string | string[]) {
      this.task = wx.connectSocket({
        url,
        protocols: protocols === undefined ? undefined : Array.isArray(protocols) ? protocols : [protocols],
        // connectSocket itself can fail (domain not listed, 5 sockets open): report it as a close.
        fail: (result) => this.closed(1006, result.errMsg),
      });
      this.task.onOpen(() => {
        this.readyState = WxWebSocket.OPEN;
        this.onopen?.({});
      });
      this.task.onMessage(({ data }) => {
        // graphql-ws speaks JSON text; a binary frame is not part of the protocol.
        this.onmessage?.({ data: typeof data === 'string' ? data : new TextDecoder().decode(data) });
      });
      this.task.onError((result) => this.onerror?.(result));
      this.task.onClose(({ code, reason }) => this.closed(code, reason));
    }

    send(data: string): void {
      this.task.send({ data, fail: (result) => this.onerror?.(result) });
    }

    close(code = 1000, reason = ''): void {
      if (this.readyState === WxWebSocket.CLOSING || this.readyState === WxWebSocket.CLOSED) return;
      this.readyState = WxWebSocket.CLOSING;
      this.task.close({ code, reason });
    }

    private closed(code: number, reason: string): void {
      if (this.readyState === WxWebSocket.CLOSED) return;
      this.readyState = WxWebSocket.CLOSED;
      this.onclose?.({ code, reason, wasClean: code === 1000 });
    }
  };
}
