import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './platform/config';
import { systemClock, type Clock } from './platform/clock';
import { createLogger, type Logger } from './platform/logger';
import { DomainError, formatError } from './platform/errors';
import { Metrics } from './platform/metrics';
import { checkReadiness } from './platform/health';
import { openOrm } from './platform/db/orm';
import { connectRedis, createRedis, type RedisClients } from './platform/redis';
import { limitRules, parseOptions } from './platform/graphql/limits';
import { TokenVerifier } from './auth/jwt';
import type { Principal } from './auth/principal';
import { RedisPubSubAdapter } from './realtime/pubsub';
import { startWsServer } from './realtime/ws-server';
import { createSchema } from './schema';
import { createLoaders, type Context, type Services } from './context';
import { MemberService } from './members/member.service';
import { LedgerService } from './ledger/ledger.service';
import { EarningRuleService } from './ledger/earning-rule.service';
import { ProgramService } from './program/program.service';
import { NotificationService } from './notifications/notification.service';
import { JobRunner } from './jobs/runner';
import { CatalogService } from './catalog/catalog.service';
import { RedemptionService } from './catalog/redemption.service';
import { LedgerEvents } from './ledger/ledger.events';
import { LeaderboardService } from './leaderboard/leaderboard.service';
import { LeaderboardFeed } from './leaderboard/leaderboard.feed';
import { StatsService } from './program/stats.service';
import { StatsFeed } from './program/stats.feed';
import { GamificationService } from './tasks/tasks.service';
import { ExperimentService } from './experiments';
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
  const leaderboard = new LeaderboardService({ redis, orm, clock, timeZone: config.timeZone, log, retentionDays: config.leaderboard.retentionDays });
  events.onCommit((posted) => leaderboard.record(posted));
  const earningRules = new EarningRuleService(clock);
  const ledger = new LedgerService({ clock, timeZone: config.timeZone, events, members, program, notifications, earningRules });
  const stats = new StatsService(config.timeZone);
  return {
    members,
    program,
    notifications,
    events,
    ledger,
    leaderboard,
    stats,
    earningRules,
    catalog: new CatalogService(clock),
    redemptions: new RedemptionService({ clock, ledger, program, notifications }),
    leaderboardFeed: new LeaderboardFeed({ leaderboard, pubSub, orm, tierCache: members.tierCache, log, coalesceMs: config.leaderboard.coalesceMs }),
    statsFeed: new StatsFeed({ stats, pubSub, orm, clock, log, intervalMs: config.leaderboard.statsIntervalMs }),
    gamification: new GamificationService({ clock, timeZone: config.timeZone, ledger, events, members, program, notifications }),
    experiments: new ExperimentService({ clock }),
    // Registers the upgrade/keep purchase hook on the ledger (same transaction as the purchase).
    tiers: new TierLifecycleService({ clock, timeZone: config.timeZone, settings: config.tiers, pubSub, ledger, members, program, notifications }),
    segments: new SegmentService({ clock, timeZone: config.timeZone }),
    caps: new CapsService({ clock, program }),
  };
}

export interface App {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly redis: RedisClients;
  readonly services: Services;
  readonly metrics: Metrics;
  readonly jobs: JobRunner;
  readonly clock: Clock;
  readonly log: Logger;
  /** Starts listening; resolves with the base URL (http://host:port). */
  listen(port?: number, host?: string): Promise<string>;
  /** Graceful shutdown: refuse new work, drain HTTP, close sockets, then Redis and the ORM. */
  stop(): Promise<void>;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The composition root: the only place that knows how the pieces fit together. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const verifier = new TokenVerifier(config.jwt);

  const orm = await openOrm(config.databaseUrl, config.databasePoolMax);
  const redis = createRedis(config.redisUrl, config.redisPrefix);
  try {
    await connectRedis(redis);
  } catch (error) {
    await orm.close();
    await redis.close();
    throw error;
  }
  const pubSub = new RedisPubSubAdapter(redis, log);
  const services = createServices({ clock, config, orm, redis, pubSub, log });
  const jobs = new JobRunner({ orm, clock, services, pubSub, log, metrics, intervalMs: config.jobs.intervalMs });
  await Promise.all([services.leaderboardFeed.start(), services.statsFeed.start()]);
  // A board missing from Redis (new or flushed) is rebuilt from the ledger; the server does not wait for it.
  void services.leaderboard.rebuildMissing().catch((error: unknown) => log.warn({ err: error }, 'leaderboard rebuild at start failed'));

  const schema = await createSchema(pubSub);
  // The EntityManager, loaders and logger of a request are made on first use: many requests need only some of them.
  const contextFor = (principal: Principal, requestId: string): Context => {
    let em: Context['em'] | undefined;
    let loaders: Context['loaders'] | undefined;
    let child: Logger | undefined;
    return {
      principal,
      services,
      config,
      clock,
      requestId,
      get em() {
        return (em ??= orm.em.fork());
      },
      get loaders() {
        return (loaders ??= createLoaders(this.em, clock, services));
      },
      get log() {
        return (child ??= log.child({ requestId }));
      },
    };
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  const httpServer = http.createServer(app);
  const ws = startWsServer({ httpServer, schema, config, verifier, log, contextFor });
  let shuttingDown = false;

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: !config.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    validationRules: limitRules(config.limits),
    parseOptions: parseOptions(config.limits),
    formatError: (formatted, error) =>
      formatError(formatted, error, (original) => log.error({ err: original, path: formatted.path }, 'unexpected error')),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      metrics.apolloPlugin(),
      // No @cacheControl hints here: the default plugin would only wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();

  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('x-request-id', id);
    if (req.path === '/graphql') {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        metrics.httpResponses.inc({ status: String(res.statusCode) });
        log.info({ requestId: id, method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      });
    }
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(orm, redis.command, shuttingDown);
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(
    '/graphql',
    express.json({ limit: '100kb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        try {
          return contextFor(verifier.verifyAuthorization(req.header('authorization')), res.locals.requestId as string);
        } catch (error) {
          if (error instanceof DomainError) {
            throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: 401 } } });
          }
          throw error;
        }
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
    jobs,
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
    stop() {
      stopping ??= (async () => {
        shuttingDown = true;
        await jobs.stop();
        services.leaderboardFeed.stop();
        services.statsFeed.stop();
        await ws.close();
        // Stops accepting and waits for in-flight HTTP requests (drain plugin).
        await apollo.stop();
        if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await pubSub.close();
        await redis.close();
        await orm.close();
      })();
      return stopping;
    },
  };
}
