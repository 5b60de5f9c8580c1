import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './platform/config';
import { systemClock, type Clock } from './platform/clock';
import { createLogger, type Logger } from './platform/logger';
import { DomainError, formatError } from './platform/errors';
import { Metrics } from './platform/metrics';
import { checkReadiness, ReadinessMetrics } from './platform/health';
import { BusinessMetrics, type IssueSource } from './platform/business-metrics';
import { corsMiddleware, upgradeOriginAllowed } from './platform/cors';
import { accessLog, accessLogPlugin, logAccess, recordCaller } from './platform/access-log';
import { graphqlHttpHandler, plainJsonRequestErrorsPlugin, servesFast } from './platform/graphql/http';
import { operationTypePlugin } from './platform/graphql/operation-type';
import { HttpDrain } from './platform/http-drain';
import { openOrm } from './platform/db/orm';
import { connectRedis, createRedis, type RedisClients } from './platform/redis';
import { limitRules, parseOptions } from './platform/graphql/limits';
import { TokenVerifier } from './auth/jwt';
import type { Principal } from './auth/principal';
import { RedisPubSubAdapter } from './realtime/pubsub';
import { startWsServer } from './realtime/ws-server';
import { createSchema } from './schema';
import { RequestContext, type Context, type Services } from './context';
import { MemberService } from './members/member.service';
import { LedgerService } from './ledger/ledger.service';
import { EarningRuleService } from './ledger/earning-rule.service';
import { ProgramService } from './program/program.service';
import { NotificationService } from './notifications/notification.service';
import { JobRunner } from './jobs/runner';
import { CatalogService } from './catalog/catalog.service';
import { RedemptionService } from './catalog/redemption.service';
import { FlashSaleGate } from './catalog/flash-sale.gate';
import { LedgerEvents } from './ledger/ledger.events';
import { LedgerWriters } from './ledger';
import { LeaderboardStore } from './leaderboard/leaderboard.store';
import { LeaderboardRebuild } from './leaderboard/leaderboard.rebuild';
import { RankSnapshotService } from './leaderboard/rank-snapshot.service';
import { LeaderboardFeed } from './leaderboard/leaderboard.feed';
import { StatsService } from './program/stats.service';
import { StatsFeed } from './program/stats.feed';
import { TaskService } from './tasks/tasks.service';
import { CheckInService } from './tasks/checkin.service';
import { ChallengeService } from './tasks/challenge.service';
import { ReferralService } from './tasks/referral.service';
import { RewardService } from './tasks/reward.service';
import { LedgerHistoryService } from './ledger/ledger-history.service';
import { rewardKind } from './tasks/tasks.rules';
import { ProgramHealthService } from './program/health.service';
import { LedgerEntryType } from './ledger/ledger.entity';
import type { EntryRow } from './ledger/ledger.writer';
import { ExperimentService } from './experiments';
import { RecommendationService } from './recommendations/recommendation.service';
import { PartnerCallService } from './partners/partner.service';
import { PartnerAudit } from './partners/partner.audit';
import { PartnerGate } from './partners/partner.endpoint';
import { PersistedOperations } from './partners/partner.manifest';
import { PartnerRateLimiter } from './partners/partner.rate-limit';
import { RedisKeyValueCache } from './platform/graphql/apq-cache';
import { TierLifecycleService } from './lifecycle/tier.service';
import { SegmentService } from './lifecycle/segment.service';
import { CapsService } from './lifecycle/caps.service';

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
}

export interface Infrastructure {
  clock: Clock;
  config: Config;
  orm: MikroORM;
  redis: RedisClients;
  pubSub: RedisPubSubAdapter;
  log: Logger;
}

/** The use cases and per-instance feeds, wired once; shared by the server, the CLIs and the tests. */
export function createServices({ clock, config, orm, redis, pubSub, log }: Infrastructure): Services {
  const members = new MemberService(clock);
  const program = new ProgramService(clock);
  const notifications = new NotificationService();
  const events = new LedgerEvents(pubSub);
  const leaderboard = new LeaderboardStore({ redis, clock, timeZone: config.timeZone, log, retentionDays: config.leaderboard.retentionDays });
  events.onCommit((posted) => leaderboard.record(posted));
  const leaderboardRebuild = new LeaderboardRebuild({ store: leaderboard, orm, clock, timeZone: config.timeZone, log });
  const leaderboardFeed = new LeaderboardFeed({ leaderboard, pubSub, orm, tierCache: members.tierCache, log, coalesceMs: config.leaderboard.coalesceMs });
  // A board rebuilt from the ledger (Redis back after an outage, start-up, a rank snapshot) is pushed
  // to its subscribers like any change, instead of waiting for the next posting.
  leaderboardRebuild.rebuilt.on(({ kind }) => leaderboardFeed.boardReplaced(kind));
  const earningRules = new EarningRuleService(clock);
  // Every use case that moves points gets its writer here, bound to its unit of work.
  const writers = new LedgerWriters({ clock, events });
  const ledger = new LedgerService({ clock, timeZone: config.timeZone, writers, members, program, earningRules, purchaseWindow: config.purchases });
  const stats = new StatsService(config.timeZone);
  const catalog = new CatalogService(clock);
  const recommendations = new RecommendationService({ orm, redis, clock, log, timeZone: config.timeZone });
  // Recommendations follow the ledger and the catalog: any balance move drops the member's list
  // (the delete is queued before the mutation answers); each redemption feeds the co-redemption
  // counts in its own transaction; catalog edits and sell-outs bump the version every instance checks.
  events.onCommit(async (posted) => {
    await recommendations.membersChanged([...new Set(posted.map((e) => e.member_id))]);
  });
  catalog.onChange(async () => {
    await recommendations.catalogChanged();
  });
  // Flash sales: hot items' redemptions are admitted in Redis first; the counters follow every
  // committed change of stock that did not come through the gate (admin edits, cancellations).
  const flashGate = new FlashSaleGate({ redis, orm, clock, log, pubSub, winnersAtOnce: config.flashSale.winnersAtOnce });
  catalog.onChange((itemId) => flashGate.itemChanged(itemId));
  const redemptions = new RedemptionService({ clock, writers, notifications, paymentWindowSeconds: config.payments.windowSeconds, gate: flashGate });
  redemptions.recorded.on(({ tx, redemption }) => recommendations.recordRedemption(tx, redemption));
  redemptions.soldOut.on(async () => void (await recommendations.catalogChanged()));
  redemptions.unitsReturned.on(({ itemId }) => flashGate.unitsReturned(itemId));
  const rewards = new RewardService({ timeZone: config.timeZone, program });
  const challenges = new ChallengeService({ clock, timeZone: config.timeZone, rewards, notifications });
  const tasks = new TaskService({ clock, timeZone: config.timeZone, writers, rewards });
  const checkIns = new CheckInService({ clock, timeZone: config.timeZone, writers, rewards });
  const tiers = new TierLifecycleService({ clock, timeZone: config.timeZone, settings: config.tiers, pubSub, members, program, notifications });
  // Events instead of up-calls, each inside the transaction that emits it. A posted purchase:
  // challenge progress first, then the tier year (upgrade and its bonus, or keeping a tier in
  // grace); the ledger knows neither. Tasks and check-ins move challenges the same way.
  ledger.purchasePosted.on((posted) => challenges.purchasePosted(posted));
  ledger.purchasePosted.on((posted) => tiers.purchasePosted(posted));
  tasks.completed.on((done) => challenges.taskCompleted(done));
  checkIns.checkedIn.on((done) => challenges.checkedIn(done));
  return {
    health: new ProgramHealthService({ orm, clock, stats, log }),
    members,
    program,
    notifications,
    events,
    ledger,
    ledgerHistory: new LedgerHistoryService(),
    leaderboard,
    leaderboardRebuild,
    rankSnapshots: new RankSnapshotService({ store: leaderboard, rebuild: leaderboardRebuild, orm, clock, timeZone: config.timeZone }),
    stats,
    earningRules,
    catalog,
    recommendations,
    redemptions,
    flashGate,
    leaderboardFeed,
    statsFeed: new StatsFeed({ stats, pubSub, orm, clock, log, intervalMs: config.leaderboard.statsIntervalMs }),
    tasks,
    checkIns,
    challenges,
    referrals: new ReferralService({ writers, members, program, rewards }),
    experiments: new ExperimentService({ clock }),
    partnerCalls: new PartnerCallService(),
    tiers,
    segments: new SegmentService({ clock, timeZone: config.timeZone }),
    caps: new CapsService({ clock, program }),
  };
}

/** The source a posted credit counts under in loyalty_points_issued_total; debits issue nothing. */
function issueSourceOf(entry: EntryRow): IssueSource | null {
  switch (entry.type) {
    case LedgerEntryType.PURCHASE:
      return 'purchase';
    case LedgerEntryType.REFUND:
      return 'refund';
    case LedgerEntryType.ADJUSTMENT:
      return entry.delta > 0 ? 'adjustment' : null;
    case LedgerEntryType.REWARD:
      return rewardKind(entry.reference);
    default:
      return null;
  }
}

/**
 * Business metrics from the domains' after-commit events only (a rolled-back transaction
 * publishes nothing, so it moves nothing); each instance counts its own work. Gauges come
 * from the health service's background refresh.
 */
function wireBusinessMetrics(services: Services, business: BusinessMetrics): void {
  services.events.onCommit((posted) => {
    for (const entry of posted) {
      if (entry.type === LedgerEntryType.EXPIRY) business.expired(-entry.delta);
      const source = issueSourceOf(entry);
      if (source) business.issued(source, entry.delta);
    }
  });
  services.redemptions.attempts.push((attempt) => {
    business.redemption(attempt);
    services.health.recordRedemption(attempt.seconds);
  });
  services.health.refreshed.push((gauges) => business.setGauges(gauges));
}

export interface App {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly redis: RedisClients;
  readonly services: Services;
  readonly metrics: Metrics;
  readonly business: BusinessMetrics;
  readonly jobs: JobRunner;
  /** The start-up board rebuild running in the background (never rejects): tests that count statements wait for it. */
  readonly startupRebuild: Promise<void>;
  /** The partner audit trail's writer: flush() writes what is buffered (tests, shutdown). */
  readonly partnerAudit: PartnerAudit;
  readonly clock: Clock;
  readonly log: Logger;
  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Graceful shutdown: refuse new connections, close WebSockets with 1001, serve requests already
   * sent (for `lingerMs`, default 0, on kept-alive sockets too) and answer them with
   * `Connection: close`, stop jobs between batches, then close Redis and the ORM. Requests still
   * running at `deadline` (epoch ms) are cut.
   */
  stop(options?: { lingerMs?: number; deadline?: number }): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's x-request-id when well formed, otherwise a new one; echoed on the response. */
function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/** The composition root: the only place that knows how the pieces fit together. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config.logLevel, { pretty: config.env === 'development' });
  const metrics = new Metrics();
  const verifier = new TokenVerifier(config.jwt);

  const orm = await openOrm(config.databaseUrl, config.databasePoolMax, { log, timeouts: config.databaseTimeouts, readUrls: config.databaseReadUrls });
  const redis = createRedis(config.redisUrl, config.redisPrefix, config.redisClusterNodes);
  try {
    await connectRedis(redis);
  } catch (error) {
    await orm.close();
    await redis.close();
    throw error;
  }
  const pubSub = new RedisPubSubAdapter(redis, log);
  const services = createServices({ clock, config, orm, redis, pubSub, log });
  const business = new BusinessMetrics(metrics.registry);
  wireBusinessMetrics(services, business);
  const readinessMetrics = new ReadinessMetrics(metrics.registry);
  const jobs = new JobRunner({ orm, clock, services, pubSub, log, metrics, intervalMs: config.jobs.intervalMs });
  await Promise.all([
    services.leaderboardFeed.start(),
    services.statsFeed.start(),
    services.health.start(config.businessGaugesIntervalMs),
    // Awaited: the first request of a flash sale already finds its counters.
    services.flashGate.start(),
  ]);
  // A board missing from Redis (new or flushed), or behind the ledger (an instance died between a
  // commit and its board update), is rebuilt from the ledger; the server does not wait for it.
  const startupRebuild = services.leaderboardRebuild
    .rebuildMissing()
    .then(() => services.leaderboardRebuild.rebuildStale())
    .then(
      () => undefined,
      (error: unknown) => log.warn({ err: error }, 'leaderboard rebuild at start failed'),
    );

  const schema = await createSchema(pubSub);
  // The EntityManager, loaders and logger of a request are made on first use: many requests need only some of them.
  const contextDeps = { orm, services, config, clock, log };
  const contextFor = (principal: Principal, requestId: string): Context => new RequestContext(principal, requestId, contextDeps);

  const app = express();
  app.disable('x-powered-by');
  // Only behind a proxy we run (TRUST_PROXY) is X-Forwarded-For believed, and only its last hop.
  app.set('trust proxy', config.trustProxy ? 1 : false);
  // POST /graphql with a JSON body (nearly every call) skips Express: see platform/graphql/http.ts.
  // Assigned once Apollo has started, before the server listens.
  let serveGraphql: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const httpServer = http.createServer((req, res) => {
    if (serveGraphql && servesFast(req, '/graphql')) serveGraphql(req, res);
    else app(req, res);
  });
  const drain = new HttpDrain(httpServer);
  const subscriptionsAtCap = new Counter({
    name: 'loyalty_ws_subscriptions_refused_total',
    help: 'WebSocket operations refused because their socket had WS_MAX_SUBSCRIPTIONS running',
    registers: [metrics.registry],
  });
  const ws = startWsServer({
    httpServer,
    schema,
    config,
    verifier,
    log,
    contextFor,
    onSubscriptionCap: () => subscriptionsAtCap.inc(),
    acceptUpgrade: (req) => upgradeOriginAllowed(config.corsOrigins, req),
  });
  let shuttingDown = false;
  // A gauge read from the gate's own count at scrape time (it counts from the process's start, as a counter would).
  new Gauge({
    name: 'loyalty_flash_gate_rebuilds',
    help: 'Flash-sale gate rebuilds from PostgreSQL asked for on this instance since it started, by reason (start, redis-back, missing, edit, returned)',
    labelNames: ['reason'],
    registers: [metrics.registry],
    collect() {
      for (const [reason, count] of services.flashGate.rebuilds) this.labels(reason).set(count);
    },
  });
  new Gauge({
    name: 'loyalty_ws_connections',
    help: 'Open WebSocket connections on this instance',
    registers: [metrics.registry],
    collect() {
      this.set(ws.wss.clients.size);
    },
  });
  // Readiness for Prometheus even when nothing probes /readyz; a scrape only reads the last result.
  const readinessTimer = setInterval(() => void checkReadiness(orm, redis.command, shuttingDown).then((r) => readinessMetrics.record(r)), config.businessGaugesIntervalMs);
  readinessTimer.unref();

  // What both doors share: the document limits, error masking, metrics, the access log.
  const common = {
    schema,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    validationRules: limitRules(config.limits),
    parseOptions: parseOptions(config.limits),
    formatError: (formatted: Parameters<typeof formatError>[0], error: unknown) =>
      formatError(formatted, error, (original) => log.error({ err: original, path: formatted.path }, 'unexpected error'), { hideSuggestions: config.production }),
    // main.ts owns SIGTERM/SIGINT: Apollo's own handlers stop it and re-raise the signal, cutting
    // the app's shutdown (jobs, close frames, Redis, ORM) short and exiting 143.
    stopOnTerminationSignals: false,
  };
  const apollo = new ApolloServer<Context>({
    ...common,
    introspection: !config.production,
    // Automatic persisted queries for first-party clients, shared by every instance through Redis.
    persistedQueries: { cache: new RedisKeyValueCache(redis.command, config.apqTtlSeconds), ttl: config.apqTtlSeconds },
    plugins: [
      // HTTP is drained by HttpDrain before Apollo stops (its drain plugin resets kept-alive sockets).
      metrics.apolloPlugin(),
      accessLogPlugin<Context>(),
      // Ledger history pages of a query may come from a read replica; a mutation's payload reads the primary.
      operationTypePlugin<Context>(),
      // No @cacheControl hints here: the default plugin would only wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      // GraphQL over HTTP: request errors answer 200 to a client that asked for application/json.
      plainJsonRequestErrorsPlugin<Context>(),
    ],
  });

  // /partner/graphql: reviewed operations only (src/partners/partner.endpoint.ts).
  const partnerAudit = new PartnerAudit({ orm, log, flushMs: config.partners.auditFlushMs, onDropped: (rows) => metrics.partnerAuditDropped.inc(rows) });
  const partnerGate = new PartnerGate({
    verifier,
    operations: PersistedOperations.load(),
    limiter: new PartnerRateLimiter(redis.command, clock, (id) => ({
      ratePerSecond: config.partners.byId[id]?.ratePerSecond ?? config.partners.ratePerSecond,
      burst: config.partners.byId[id]?.burst ?? config.partners.burst,
    })),
    audit: partnerAudit,
    metrics,
    clock,
    log,
    partners: config.partners,
  });
  const partnerApollo = new ApolloServer<Context>({
    ...common,
    introspection: false,
    // The gate already resolved the id; the request Apollo sees carries the stored document.
    persistedQueries: false,
    plugins: [metrics.apolloPlugin(), accessLogPlugin<Context>(), partnerGate.plugin(), ApolloServerPluginCacheControlDisabled()],
  });
  await Promise.all([apollo.start(), partnerApollo.start()]);
  partnerAudit.start();

  app.use((req, res, next) => {
    res.locals.requestId = requestIdFor(req, res);
    next();
  });
  app.use(accessLog(log, metrics));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(orm, redis.command, shuttingDown, !config.production);
    readinessMetrics.record(readiness);
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    // HttpDrain counts a request after express saw it: this scrape is not among them yet.
    metrics.httpInFlight.set(drain.inFlight);
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  /**
   * The context of a /graphql operation: the token must be valid (401) and not a partner's (403),
   * both answered by Apollo with the error code, before any resolver runs.
   */
  const graphqlContext = async (authorization: string | undefined, res: ServerResponse, requestId: string): Promise<Context> => {
    let principal: Principal;
    try {
      principal = verifier.verifyAuthorization(authorization);
    } catch (error) {
      if (error instanceof DomainError) {
        recordCaller(res, null, null, error.code);
        throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: 401 } } });
      }
      throw error;
    }
    // The safelist is the partners' boundary, so it must be their only door.
    if (principal.role === 'partner') {
      recordCaller(res, null, principal.role, 'FORBIDDEN');
      throw new GraphQLError('Partner tokens are accepted only on POST /partner/graphql (persisted operations)', {
        extensions: { code: 'FORBIDDEN', http: { status: 403 } },
      });
    }
    const context = contextFor(principal, requestId);
    recordCaller(res, context, principal.role);
    return context;
  };
  const cors = corsMiddleware(config.corsOrigins);
  const graphqlHttp = graphqlHttpHandler<Context>({
    apollo,
    maxBodyBytes: config.maxBodyBytes,
    log,
    context: (req, res, requestId) => graphqlContext(req.headers.authorization, res, requestId),
  });
  serveGraphql = (req, res) => {
    const requestId = requestIdFor(req, res);
    logAccess(log, metrics, req, res, '/graphql', requestId);
    cors(req, res, () => void graphqlHttp(req, res, requestId));
  };
  app.use(
    '/graphql',
    cors,
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: ({ req, res }) => graphqlContext(req.header('authorization'), res, res.locals.requestId as string),
    }),
  );
  app.use(
    '/partner/graphql',
    express.json({ limit: config.maxBodyBytes }),
    partnerGate.handle,
    expressMiddleware(partnerApollo, {
      context: async ({ res }) => {
        const context = partnerGate.attach(contextFor(res.locals.principal as Principal, res.locals.requestId as string), res);
        recordCaller(res, context, 'partner');
        return context;
      },
    }),
  );

  let stopping: Promise<void> | null = null;
  return {
    config,
    orm,
    redis,
    services,
    metrics,
    business,
    jobs,
    startupRebuild,
    partnerAudit,
    clock,
    log,
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          if (config.jobs.enabled) jobs.start();
          resolve(`http://${shownHost}:${address.port}`);
        });
      });
    },
    stop(options = {}) {
      stopping ??= (async () => {
        shuttingDown = true;
        drain.begin();
        const jobsStopped = jobs.stop();
        clearInterval(readinessTimer);
        await services.health.stop();
        services.leaderboardFeed.stop();
        services.flashGate.stop();
        services.statsFeed.stop();
        await ws.close();
        // Process time, not the injected clock: the shutdown grace is measured on real timers (HttpDrain.settle).
        const { destroyed } = await drain.settle({ lingerMs: options.lingerMs ?? 0, deadline: options.deadline ?? Date.now() + config.shutdownGraceMs });
        if (destroyed) log.warn({ requests: destroyed }, 'shutdown deadline reached: requests still running were cut');
        await Promise.all([apollo.stop(), partnerApollo.stop()]);
        await partnerAudit.stop();
        await jobsStopped;
        await pubSub.close();
        await redis.close();
        await orm.close();
      })();
      return stopping;
    },
  };
}
