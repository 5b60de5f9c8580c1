import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import type { Logger } from '../logger';

/**
 * `POST /graphql` with a JSON body, served from node:http straight into Apollo (issue 14): no
 * Express router, body parser, prototype swaps or ETag on the path every member screen takes.
 * What the Express door did is kept: the body limit (413), Apollo's CSRF prevention and error
 * codes (Apollo decides them from the headers, as before), the access log, metrics and drain
 * (those hang on the response and the server, not on Express).
 *
 * Only the common case comes here (see `servesFast`): a body in another encoding or type, GET,
 * OPTIONS (CORS preflights) and every other path still go through Express, unchanged.
 */
const JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

export function servesFast(req: IncomingMessage, path: string): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (url !== path && !url.startsWith(`${path}?`)) return false;
  const type = req.headers['content-type'];
  if (type === undefined || !JSON_CONTENT_TYPE.test(type)) return false;
  const encoding = req.headers['content-encoding'];
  return encoding === undefined || encoding.toLowerCase() === 'identity';
}

/**
 * GraphQL over HTTP (the spec's legacy `application/json` section, a SHOULD the graphql-http audit
 * checks): a client that asked for `application/json` gets 200 for every well-formed request,
 * request errors included, since a JSON client may not read the body of a 4xx;
 * `application/graphql-response+json` is where 4xx carries meaning. True when the Accept header
 * names application/json above graphql-response+json, or is absent (the spec: treat as
 * application/json). A bare wildcard keeps Apollo's 400: the client chose neither.
 */
export function wantsPlainJson(accept: string | null | undefined): boolean {
  if (accept === undefined || accept === null || accept.trim() === '') return true;
  let json = 0;
  let graphqlResponse = 0;
  for (const range of accept.toLowerCase().split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/json') json = Math.max(json, q);
    if (type === 'application/graphql-response+json') graphqlResponse = Math.max(graphqlResponse, q);
  }
  return json > 0 && json > graphqlResponse;
}

/**
 * With `wantsPlainJson`: parse, validation, operation-resolution and variable-coercion failures
 * (the request errors Apollo answers before executing, with 400 and no `data`) answer 200, with
 * the same body and error codes.
 */
export function plainJsonRequestErrorsPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      if (!wantsPlainJson(request.http?.headers.get('accept'))) return;
      return {
        async willSendResponse({ response }) {
          if (response.http.status !== 400 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!('data' in result) && result.errors?.length) response.http.status = 200;
        },
      };
    },
  };
}

export interface GraphQLHttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  maxBodyBytes: number;
  log: Logger;
  /** Builds the operation's context; a GraphQLError thrown here is answered by Apollo (401, 403). */
  context: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<C>;
}

class RequestRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body as one Buffer, at most `limit` bytes (the rest is drained, the answer is 413). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new RequestRefused(413, `The request body is larger than ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.resume(); // discard the rest, so the connection can carry the 413
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** The request handler for `servesFast` requests. Never rejects: every failure is an HTTP answer. */
export function graphqlHttpHandler<C extends BaseContext>({ apollo, maxBodyBytes, log, context }: GraphQLHttpOptions<C>) {
  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    try {
      let body: unknown;
      try {
        const raw = await readBody(req, maxBodyBytes);
        body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
      } catch (error) {
        if (error instanceof RequestRefused) return sendJson(res, error.status, { errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] });
        // 200 for a client that asked for application/json, as for the other request errors.
        if (error instanceof SyntaxError) {
          return sendJson(res, wantsPlainJson(req.headers.accept) ? 200 : 400, { errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
        }
        throw error;
      }
      const headers = new HeaderMap();
      for (const key in req.headers) {
        const value = req.headers[key];
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      const url = req.url ?? '';
      const query = url.indexOf('?');
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: query < 0 ? '' : url.slice(query), body },
        context: () => context(req, res, requestId),
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') {
        res.setHeader('content-length', Buffer.byteLength(response.body.string));
        res.end(response.body.string);
        return;
      }
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (error) {
      log.error({ err: error }, 'unexpected error serving /graphql');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  };
}
