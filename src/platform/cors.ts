import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';

/**
 * Browsers may call /graphql only from the configured origins (`CORS_ORIGINS`). Clients send a
 * bearer token, never a cookie, so no credentials are allowed: a page from another origin can
 * neither read our answers nor ride on a session. A disallowed origin gets no CORS headers at
 * all (the browser then hides the answer); a request without Origin (curl, servers, apps) is
 * not a browser's cross-origin call and is served as before.
 */
export function corsMiddleware(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST'],
    // apollo-require-preflight: what Apollo's CSRF prevention asks of a GET from a page.
    allowedHeaders: ['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after'],
    credentials: false,
    // Browsers cache the preflight (Chromium caps it at 2 h): one OPTIONS per page session, not per query.
    maxAge: 600,
  });
}

/**
 * The same rule for the WebSocket upgrade, which CORS does not cover: a browser always sends
 * Origin there, so a page from a foreign origin is refused before any message; a page served
 * by this server itself (same host) and non-browser clients (no Origin) are let in.
 */
export function upgradeOriginAllowed(origins: readonly string[], req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
