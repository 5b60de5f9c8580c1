import type { NextFunction, Request, Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import type { TokenVerifier } from '../auth/jwt';
import { Role, type Principal } from '../auth/principal';
import type { Clock } from '../platform/clock';
import type { Config } from '../platform/config';
import { DomainError, ErrorCode } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { PartnerAudit } from './partner.audit';
import type { PersistedOperations } from './partner.manifest';
import type { PartnerRateLimiter } from './partner.rate-limit';

const SHA256 = /^[0-9a-f]{64}$/;
/** Where a partner request's context carries its call (a symbol survives Apollo's shallow copy of the context). */
const CALL = Symbol('partnerCall');

/** What one call did, filled in as it goes and written to the audit and metrics when the response is sent. */
interface PartnerCallState {
  partnerId: string | null;
  operationName: string | null;
  code: string;
}

/** The id a request names: Apollo's `extensions.persistedQuery.sha256Hash`, or `documentId: "sha256:<hex>"`. */
export function persistedIdOf(body: Record<string, unknown>): string | null {
  const extensions = body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
  const hash = extensions?.persistedQuery?.sha256Hash;
  if (typeof hash === 'string') return hash.toLowerCase();
  if (typeof body.documentId === 'string' && body.documentId.startsWith('sha256:')) return body.documentId.slice(7).toLowerCase();
  return null;
}

/**
 * The door of /partner/graphql, in front of its Apollo server (Apollo Server 5 has no safelist
 * of its own). In order: a partner token (others: FORBIDDEN), the partner's token bucket, no
 * free-form query, a known operation id, the partner's allow-list. It then hands Apollo the
 * stored document, so parsing and validation happen once per operation (Apollo's document
 * cache), and the same limits, errors and resolvers apply as on /graphql.
 */
export class PartnerGate {
  constructor(
    private readonly deps: {
      verifier: TokenVerifier;
      operations: PersistedOperations;
      limiter: PartnerRateLimiter;
      audit: PartnerAudit;
      metrics: Metrics;
      clock: Clock;
      log: Logger;
      partners: Config['partners'];
    },
  ) {}

  /** Express middleware; on success the partner's principal is in res.locals.principal. */
  readonly handle = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { verifier, operations, limiter, metrics, partners } = this.deps;
    const call: PartnerCallState = { partnerId: null, operationName: null, code: 'OK' };
    res.locals.partnerCall = call;
    this.onFinish(res, call);
    const refuse = (status: number, code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) => {
      call.code = code;
      res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
    };

    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(405, ErrorCode.BAD_USER_INPUT, 'Partners call POST /partner/graphql');
    }
    let principal: Principal;
    try {
      principal = verifier.verifyAuthorization(req.header('authorization'));
    } catch (error) {
      if (error instanceof DomainError) return refuse(401, error.code, error.message);
      throw error;
    }
    if (principal.role !== Role.PARTNER || !principal.partnerId) {
      return refuse(403, ErrorCode.FORBIDDEN, 'Only partner tokens are accepted on /partner/graphql; members and admins use /graphql');
    }
    call.partnerId = principal.partnerId;

    const decision = await limiter.take(principal.partnerId);
    if (decision.failedOpen) metrics.partnerRateLimitFailOpen.inc();
    if (!decision.allowed) {
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
      return refuse(429, ErrorCode.RATE_LIMITED, 'Too many requests for this partner: retry later', { retryAfterMs: decision.retryAfterMs });
    }

    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return refuse(400, ErrorCode.BAD_USER_INPUT, 'The body must be one JSON object (no batches)');
    }
    const request = body as Record<string, unknown>;
    if (request.query != null) {
      return refuse(200, ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, 'Partners run reviewed operations only: name one by extensions.persistedQuery.sha256Hash or documentId, without query');
    }
    const id = persistedIdOf(request);
    if (!id || !SHA256.test(id)) {
      return refuse(400, ErrorCode.BAD_USER_INPUT, 'Name the operation by extensions.persistedQuery.sha256Hash or documentId ("sha256:<hex>")');
    }
    const operation = operations.get(id);
    if (!operation) return refuse(200, ErrorCode.PERSISTED_QUERY_NOT_FOUND, 'PersistedQueryNotFound: no reviewed operation has this id');
    call.operationName = operation.name;
    const allowed = partners.byId[principal.partnerId]?.operations;
    if (allowed && !allowed.includes(operation.name)) {
      return refuse(200, ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, `This partner may not run ${operation.name}`);
    }

    req.body = { query: operation.body, operationName: operation.name, variables: request.variables ?? undefined };
    res.locals.principal = principal;
    next();
  };

  /** Ties an Apollo context to its call, so the plugin can record the outcome. */
  attach<T extends object>(context: T, res: Response): T {
    return Object.assign(context, { [CALL]: res.locals.partnerCall as PartnerCallState });
  }

  /** Records the first error's code (or OK) of what Apollo answered. */
  plugin(): ApolloServerPlugin<object> {
    return {
      async requestDidStart() {
        return {
          async willSendResponse({ contextValue, response, errors }) {
            const call = (contextValue as { [CALL]?: PartnerCallState })[CALL];
            if (!call) return;
            const sent = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            const code = sent?.[0]?.extensions?.code ?? errors?.[0]?.extensions?.code;
            call.code = typeof code === 'string' ? code : errors?.length ? ErrorCode.INTERNAL_SERVER_ERROR : 'OK';
          },
        };
      },
    };
  }

  private onFinish(res: Response, call: PartnerCallState): void {
    // A duration for the audit's metrics on the monotonic timer; the audit row's time is the program clock's.
    const started = process.hrtime.bigint();
    const at = this.deps.clock.now();
    res.once('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const partner = call.partnerId ?? 'none';
      const operation = call.operationName ?? 'none';
      this.deps.metrics.partnerCalls.inc({ partner, operation, code: call.code });
      this.deps.metrics.partnerCallDuration.observe({ partner, operation }, durationMs / 1000);
      // Only calls made with a partner token belong to a partner's trail; the others are counted above.
      if (call.partnerId !== null) {
        this.deps.audit.record({ partnerId: call.partnerId, operationName: call.operationName, code: call.code, durationMs, requestId: res.locals.requestId as string, at });
      }
    });
  }
}
