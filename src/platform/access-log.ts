import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

/** What one /graphql request did, filled in as it goes and logged once when the response is sent. */
export interface AccessRecord {
  operation: string | null;
  role: string | null;
  /** `OK`, or the first error's `extensions.code` as the client received it. */
  outcome: string | null;
}

/**
 * The record rides on the context under a symbol: Apollo hands plugins a copy of the context
 * object (it clones it per operation), and Object.assign copies enumerable symbol-keyed properties.
 */
const ACCESS = Symbol('access');

/** Kept on the response itself, so Express's door and the node:http one (platform/graphql/http.ts) share it. */
const RECORD = Symbol('access record');
type Recorded = ServerResponse & { [RECORD]?: AccessRecord };
const recordOf = (res: ServerResponse): AccessRecord => ((res as Recorded)[RECORD] ??= { operation: null, role: null, outcome: null });

/** Who called: set by the context factory once the token is verified (or refused). */
export function recordCaller(res: ServerResponse, context: object | null, role: string | null, outcome?: string): void {
  const record = recordOf(res);
  record.role = role;
  if (outcome) record.outcome = outcome;
  if (context) Object.defineProperty(context, ACCESS, { value: record, enumerable: true });
}

/**
 * One log line per /graphql request: the path the client asked for (`originalUrl`, not the
 * path a mounted router sees, which is `/`), the operation, the caller's role and the outcome
 * code, so an operator can grep `"outcome":"INSUFFICIENT_POINTS"` or an operation by name.
 */
export function logAccess(log: Logger, metrics: Metrics, req: IncomingMessage, res: ServerResponse, path: string, requestId: string): void {
  // The request's duration (log, metrics): the monotonic timer, not the program clock tests move.
  const started = process.hrtime.bigint();
  const record = recordOf(res);
  res.once('finish', () => {
    metrics.httpResponses.inc({ status: String(res.statusCode) });
    // Built only when written: the line costs nothing at LOG_LEVEL=warn and above.
    if (!log.isLevelEnabled('info')) return;
    log.info(
      {
        requestId,
        method: req.method,
        path,
        operation: record.operation,
        role: record.role ?? 'anonymous',
        outcome: record.outcome ?? (res.statusCode < 400 ? 'OK' : `HTTP_${res.statusCode}`),
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      },
      'request',
    );
  });
}

/** The access log as Express middleware, for the GraphQL requests Express still serves. */
export function accessLog(log: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const path = req.originalUrl.split('?')[0];
    if (path === '/graphql' || path === '/partner/graphql') logAccess(log, metrics, req, res, path, res.locals.requestId as string);
    next();
  };
}

/** Fills the access record from Apollo: the operation's name and the outcome code the client got. */
export function accessLogPlugin<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async willSendResponse({ operation, operationName, request, response }) {
          const record = (contextValue as { [ACCESS]?: AccessRecord })[ACCESS];
          if (!record) return;
          // The name in the document when the client sent none beside it; bounded, it is a log field.
          record.operation = (operation?.name?.value ?? operationName ?? request.operationName ?? null)?.slice(0, 100) ?? null;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const code = errors?.[0]?.extensions?.code;
          record.outcome = errors?.length ? (typeof code === 'string' ? code : 'ERROR') : 'OK';
        },
      };
    },
  };
}
