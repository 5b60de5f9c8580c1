import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApolloServerPlugin } from '@apollo/server';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 200;

export class Metrics {
  readonly registry = new Registry();
  readonly operationDuration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operation duration by operation name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** Every /graphql HTTP response by status, including those refused before Apollo (401, 400). */
  readonly httpResponses = new Counter({
    name: 'graphql_http_responses_total',
    help: 'HTTP responses of /graphql by status code',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'loyalty_job_runs_total',
    help: 'Scheduled job runs by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobItems = new Counter({
    name: 'loyalty_job_items_total',
    help: 'Items (lots, warnings, members, points) processed by scheduled jobs',
    labelNames: ['job', 'item'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'loyalty_job_duration_seconds',
    help: 'Duration of scheduled job runs',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [this.registry],
  });
  /** HTTP requests received and not yet answered (set from the server's HttpDrain at scrape time). */
  readonly httpInFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests received and not yet answered',
    registers: [this.registry],
  });
  /** /partner/graphql: calls by partner, persisted operation and outcome (OK or the error code). */
  readonly partnerCalls = new Counter({
    name: 'partner_calls_total',
    help: 'Partner calls by partner, operation and result code',
    labelNames: ['partner', 'operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly partnerCallDuration = new Histogram({
    name: 'partner_call_duration_seconds',
    help: 'Partner call duration by partner and operation',
    labelNames: ['partner', 'operation'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  /** The partner rate limit could not reach Redis and let the call through. */
  readonly partnerRateLimitFailOpen = new Counter({
    name: 'partner_rate_limit_fail_open_total',
    help: 'Partner calls served without a rate-limit decision because Redis did not answer',
    registers: [this.registry],
  });
  readonly partnerAuditDropped = new Counter({
    name: 'partner_audit_dropped_total',
    help: 'Partner audit rows dropped because PostgreSQL stayed unavailable',
    registers: [this.registry],
  });
  private readonly seenOperations = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Operation names come from clients: only well-formed names, and at most a bounded number of
   * them, become label values, so a client cannot blow up the metric's cardinality.
   */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'invalid';
    if (this.seenOperations.has(name)) return name;
    if (this.seenOperations.size >= MAX_OPERATION_LABELS) return 'other';
    this.seenOperations.add(name);
    return name;
  }

  apolloPlugin(): ApolloServerPlugin {
    const metrics = this;
    return {
      async requestDidStart() {
        const stop = metrics.operationDuration.startTimer();
        return {
          async willSendResponse({ operationName, operation, errors, response }) {
            const failed = (errors?.length ?? 0) > 0 || (response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0);
            stop({ operation: metrics.operationLabel(operationName), type: operation?.operation ?? 'unknown', outcome: failed ? 'error' : 'ok' });
          },
        };
      },
    };
  }
}
