import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { getOperationAST, getVariableValues, GraphQLError, NoSchemaIntrospectionCustomRule, specifiedRules, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Principal } from '../auth/principal';
import type { TokenVerifier } from '../auth/jwt';
import { systemClock, type Clock } from '../platform/clock';
import type { Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { formatError } from '../platform/errors';
import { limitRules, parseOptions } from '../platform/graphql/limits';
import { subscribeShared, subscriptionTargets } from './shared-execution';
import { DocumentCache } from './document-cache';
import { sharedAcrossPrincipals } from './audience';
import type { Context } from '../context';

export interface SocketState {
  principal?: Principal;
  active: Set<string>;
}

/** Unsent bytes a socket may hold before it is considered too slow and closed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const CLOSING_BRACE = 0x7d; // '}'

/**
 * Where `next` frames are built: one event goes to thousands of sockets, each frame a copy of the
 * shared payload between the socket's own head and a closing brace. Carved one after another out of
 * a large slab (as Node's Buffer pool does, but 32 times larger) rather than one Buffer.concat each,
 * which takes a new 8 KB pool every few frames: the fanout bench's profile had garbage collection at
 * 10 % of the server's time, most of it those short-lived pools. A region is never written twice; a
 * full slab is replaced and freed once the frames it holds are written.
 */
class FrameSlab {
  private static readonly BYTES = 256 * 1024;
  private slab = Buffer.allocUnsafeSlow(FrameSlab.BYTES);
  private used = 0;

  frame(head: Buffer, payload: Buffer): Buffer {
    const length = head.length + payload.length + 1;
    if (length > FrameSlab.BYTES / 8) return Buffer.concat([head, payload, Buffer.of(CLOSING_BRACE)], length);
    if (this.used + length > FrameSlab.BYTES) {
      this.slab = Buffer.allocUnsafeSlow(FrameSlab.BYTES);
      this.used = 0;
    }
    const frame = this.slab.subarray(this.used, this.used + length);
    head.copy(frame, 0);
    payload.copy(frame, head.length);
    frame[length - 1] = CLOSING_BRACE;
    this.used += length;
    return frame;
  }
}
const TEXT = { binary: false };

/** Close code for a socket over a connection cap (HTTP 429's twin in the 4xxx range graphql-ws leaves free). */
export const TOO_MANY_CONNECTIONS = 4429;

/**
 * The client's address. Behind a reverse proxy (TRUST_PROXY) it is the last X-Forwarded-For entry,
 * the one our proxy appended: entries before it are whatever the client chose to send.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? request.headers['x-forwarded-for'] : undefined;
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
  return last || request.socket.remoteAddress || 'unknown';
}

/** Open sockets per key; a key's count is dropped when it reaches 0 so the map does not grow. */
class ConnectionCounter {
  private readonly counts = new Map<string, number>();
  constructor(readonly max: number) {}
  /** Takes a place for the key, or returns false when the key is at the cap; the place is given back when the socket closes. */
  take(key: string, socket: WebSocket): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(key, count + 1);
    socket.once('close', () => {
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left > 0) this.counts.set(key, left);
      else this.counts.delete(key);
    });
    return true;
  }
}

/** setTimeout's longest delay; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A socket lives no longer than its token: at expiry it is closed with 4403, as a new one would be refused. */
function closeAtExpiry(socket: WebSocket, expiresAt: number, clock: Clock) {
  let timer: NodeJS.Timeout;
  const schedule = () => {
    const wait = expiresAt - clock.now().getTime();
    timer = setTimeout(wait > MAX_TIMER_MS ? schedule : () => socket.close(4403, 'Forbidden: token expired'), Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    timer.unref();
  };
  schedule();
  socket.once('close', () => clearTimeout(timer));
}

export interface WsServerOptions {
  httpServer: HttpServer;
  schema: GraphQLSchema;
  config: Config;
  verifier: TokenVerifier;
  log: Logger;
  /** The token clock, the TokenVerifier's (wall time: `expiresAt` comes from the token). */
  tokenClock?: Clock;
  /** Builds a resolver context for one operation; subscription resolvers renew it per event. */
  contextFor(principal: Principal, requestId: string): Context;
  /** Told when an operation is refused because its socket is at WS_MAX_SUBSCRIPTIONS (metrics). */
  onSubscriptionCap?: () => void;
  /** Checked on the upgrade, before any message (browsers: the Origin rule, platform/cors.ts). */
  acceptUpgrade?: (req: IncomingMessage) => boolean;
}

/**
 * graphql-ws on the same port and path as HTTP. It runs none of Apollo's rules or plugins,
 * so auth, the document limits and error masking are applied here as well.
 */
export function startWsServer(options: WsServerOptions) {
  const { config, verifier, log } = options;
  // A message may be as large as an HTTP request body, no larger (ws closes a bigger one with 1009).
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: config.maxBodyBytes,
    // A refused upgrade gets 403 and never becomes a socket.
    verifyClient: options.acceptUpgrade
      ? ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => (options.acceptUpgrade!(req) ? done(true) : done(false, 403, 'Forbidden origin'))
      : undefined,
  });
  // Caps that hold against one client opening sockets in a loop: per address at once, per token subject after connection_init.
  const perAddress = new ConnectionCounter(config.ws.maxConnectionsPerIp);
  const perPrincipal = new ConnectionCounter(config.ws.maxConnectionsPerPrincipal);
  // Registered before graphql-ws's own listener, so an over-cap socket is closed before it is served.
  wss.on('connection', (socket, request) => {
    if (!perAddress.take(clientAddress(request, config.trustProxy), socket)) {
      socket.close(TOO_MANY_CONNECTIONS, `At most ${config.ws.maxConnectionsPerIp} connections per address`);
    }
  });
  // Apollo refuses introspection in production (introspection: !production); so must the socket.
  const rules = [...specifiedRules, ...limitRules(config.limits), ...(config.production ? [NoSchemaIntrospectionCustomRule] : [])];
  const states = new WeakMap<object, SocketState>();
  const stateOf = (extra: object): SocketState => {
    let state = states.get(extra);
    if (!state) states.set(extra, (state = { active: new Set() }));
    return state;
  };
  const frames = new FrameSlab();
  const documents = new DocumentCache(options.schema, rules, parseOptions(config.limits));
  const audiences = new WeakMap<DocumentNode, boolean>();
  const formatOptions = { hideSuggestions: config.production };
  const report = (error: unknown) => log.error({ err: error }, 'unexpected error in a websocket operation');

  const disposable = useServer(
    {
      schema: options.schema,
      subscribe: subscribeShared,
      connectionInitWaitTimeout: config.ws.initTimeoutMs,
      // Contract: the token goes in connection_init; returning false closes the socket with 4403.
      onConnect(ctx) {
        const header = (ctx.connectionParams as { authorization?: unknown } | undefined)?.authorization;
        try {
          const principal = verifier.verifyAuthorization(typeof header === 'string' ? header : null);
          // Partners run reviewed operations only, through /partner/graphql: no socket for them.
          if (principal.role === 'partner') return false;
          if (!perPrincipal.take(`${principal.role}:${principal.subject}`, ctx.extra.socket)) {
            // Closed here with its own code; graphql-ws then sends nothing on the closed socket.
            ctx.extra.socket.close(TOO_MANY_CONNECTIONS, `At most ${config.ws.maxConnectionsPerPrincipal} connections per token subject`);
            return true;
          }
          stateOf(ctx.extra).principal = principal;
          if (principal.expiresAt) closeAtExpiry(ctx.extra.socket, principal.expiresAt, options.tokenClock ?? systemClock);
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe(ctx, id, payload): ExecutionArgs | readonly GraphQLError[] {
        const state = stateOf(ctx.extra);
        if (state.active.size >= config.ws.maxSubscriptions) {
          options.onSubscriptionCap?.();
          return [new GraphQLError(`At most ${config.ws.maxSubscriptions} operations per socket`, { extensions: { code: 'LIMIT_EXCEEDED' } })];
        }
        // Parsed and validated once per distinct text (the limits included), as Apollo's document store does for HTTP.
        const valid = documents.get(payload.query);
        if (!('document' in valid)) return valid;
        const { document } = valid;
        // Request errors that graphql's execute() would return without a code (and so be masked as
        // internal): no operation to run, or variables that do not fit. Apollo tags both for HTTP.
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          const message = payload.operationName ? `Unknown operation named "${payload.operationName}".` : 'Must provide operation name if query contains multiple operations.';
          return [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
        }
        const coerced = getVariableValues(options.schema, operation.variableDefinitions ?? [], payload.variables ?? {}, { maxErrors: 50 });
        if (coerced.errors) return coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } }));
        state.active.add(id);
        const principal = state.principal!;
        const contextValue = options.contextFor(principal, `ws-${id}`);
        let shared = audiences.get(document);
        if (shared === undefined) audiences.set(document, (shared = sharedAcrossPrincipals(options.schema, document)));
        // Sockets with one key get the same bytes for an event: same document, operation and variables,
        // and the same role, and the same principal unless the operation is a public feed (shared-execution.ts).
        const audience = shared ? principal.role : `${principal.role}:${principal.subject}`;
        const socket = ctx.extra.socket;
        // graphql-transport-ws `next`: {"id":…,"type":"next","payload":<the shared bytes>}; the part
        // before the payload is this subscription's own, made once rather than per event.
        const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
        subscriptionTargets.set(contextValue, {
          key: `${valid.id}\u0000${payload.operationName ?? ''}\u0000${JSON.stringify(payload.variables ?? {})}\u0000${audience}`,
          deliver(bytes) {
            // Nothing for an operation the client completed meanwhile, or a socket already closing.
            if (!(id in ctx.subscriptions) || socket.readyState !== socket.OPEN) return;
            const buffered = socket.bufferedAmount;
            if (buffered > MAX_BUFFERED_BYTES) {
              socket.close(1013, 'Client too slow: reconnect and resubscribe');
              return;
            }
            // One text frame: ws writes it with its header in one writev.
            const frame = frames.frame(head, bytes);
            // A socket whose last frames were all taken by the kernel is written without waiting;
            // a backed-up one is waited for (see subscribeShared).
            if (buffered === 0) return void socket.send(frame, TEXT);
            return new Promise<void>((resolve) => socket.send(frame, TEXT, () => resolve()));
          },
          deliverNow(bytes) {
            if (!(id in ctx.subscriptions) || socket.readyState !== socket.OPEN) return true;
            if (socket.bufferedAmount > 0) return false;
            socket.send(frames.frame(head, bytes), TEXT);
            return true;
          },
        });
        return { schema: options.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      onComplete(ctx, id) {
        stateOf(ctx.extra).active.delete(id);
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => formatError(e.toJSON(), e, report, formatOptions));
      },
      // Only results with errors come here: the others are written by subscribeShared's deliver() above.
      onNext(ctx, _id, _payload, _args, result) {
        // A client that does not read what it is sent would make the server buffer without bound: close it.
        if (ctx.extra.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          ctx.extra.socket.close(1013, 'Client too slow: reconnect and resubscribe');
          return;
        }
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, report, formatOptions)) };
      },
    },
    wss,
    // graphql-ws pings every socket each keepAliveMs and drops one that did not answer the last
    // ping (a dead peer goes within two intervals). Its default, 12 s, costs a write and a read per
    // socket per interval: for 6,000 dashboards and phones that is 1,000 wake-ups/s of the server
    // and of every client's radio. 30 s still keeps sockets alive through proxies that close idle
    // connections after 60 s (nginx, cloud load balancers); see WS_KEEPALIVE_MS in the README.
    config.ws.keepAliveMs,
  );

  return {
    wss,
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
    },
  };
}
