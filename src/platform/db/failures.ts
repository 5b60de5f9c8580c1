/**
 * What a failed statement says about PostgreSQL, so callers can tell "the database is away or
 * too slow, try again" from a bug. Errors arrive wrapped (MikroORM's DriverException keeps the
 * driver's error fields; knex and pg raise plain Errors), so the chain of causes is walked.
 */

/** SQLSTATEs of a server that is going away, restarting or refusing connections. */
const UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: the server is stopping (or a restart) and ended our session
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: still starting up / in recovery
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS) fired
]);

/** Socket-level failures from Node while connecting or talking to PostgreSQL. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** pg and knex raise these as plain Errors without a code. */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Connection terminated due to connection timeout/i,
  /\btimeout expired\b/i, // pg's connectionTimeoutMillis (DATABASE_CONNECT_TIMEOUT_MS)
  /Query read timeout/i,
  /Timeout acquiring a connection/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /^aborted$/, // tarn: a wait for a pooled connection given up (the pool is being torn down)
  /Connection is closed/i,
  // knex, when the connection under an open transaction died (found by `npm run chaos`: the
  // transaction was already rolled back with the lost connection, and its next statement fails so).
  /Transaction query already complete/i,
];

/** 40001 serialization_failure, 40P01 deadlock_detected: the transaction lost a race and may simply run again. */
const CONFLICT_STATES = new Set(['40001', '40P01']);

function* causes(error: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current) && seen.size < 8) {
    seen.add(current);
    yield current as Record<string, unknown>;
    const e = current as { cause?: unknown; previous?: unknown; originalError?: unknown };
    current = e.cause ?? e.previous ?? e.originalError;
  }
}

function codeOf(error: Record<string, unknown>): string | undefined {
  const code = error.code ?? error.sqlState;
  return typeof code === 'string' ? code : undefined;
}

/** PostgreSQL is down, restarting, unreachable or did not answer in time: the request may be retried. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = codeOf(e);
    // Class 08 is "connection exception", except 08P01 (protocol violation): a bug, not an outage.
    if (code && (UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code) || (code.startsWith('08') && code !== '08P01'))) return true;
    if (e.name === 'KnexTimeoutError' || e.name === 'ConnectionException') return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}

/** A serialization failure or deadlock: running the whole transaction again is correct. */
export function isTransactionConflict(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = codeOf(e);
    if (code && CONFLICT_STATES.has(code)) return true;
  }
  return false;
}

/** Either of the above: nothing was written, and the client may send the same request again. */
export const isRetryableDatabaseError = (error: unknown) => isDatabaseUnavailable(error) || isTransactionConflict(error);
