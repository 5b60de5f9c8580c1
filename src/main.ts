import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './platform/config';
import { preflight, ServiceDownError } from './platform/preflight';
import { migrate, openOrm } from './platform/db/orm';
import { createLogger } from './platform/logger';
import { mintToken } from './auth/jwt';
import { createApp } from './app';
import { seedDemo } from './demo/seed';

/** After SIGTERM, requests still arriving on open keep-alive sockets are served this long. */
const SHUTDOWN_LINGER_MS = 500;
/** Of SHUTDOWN_GRACE_MS, kept for closing jobs, Redis and the pool after HTTP has drained. */
const CLOSE_RESERVE_MS = 1000;

async function migrateDatabase(config: Config): Promise<string[]> {
  const orm = await openOrm(config.databaseUrl, 2);
  try {
    return await migrate(orm);
  } finally {
    await orm.close();
  }
}

function printTokens(config: Config, url: string, memberId: string | undefined) {
  if (config.jwt.algorithm !== 'HS256') return;
  const key = { key: config.jwt.key, issuer: config.jwt.issuer, audience: config.jwt.audience };
  const lines = [
    `GraphQL:  ${url}/graphql   (ws: ${url.replace(/^http/, 'ws')}/graphql)`,
    `Partners: ${url}/partner/graphql   (persisted operations only: schema/persisted/partner-operations.json)`,
    '',
    'Ready-to-paste headers (30-day development tokens):',
    `  admin:   {"Authorization": "Bearer ${mintToken(key, { role: 'admin', sub: 'admin-demo' })}"}`,
    `  partner: {"Authorization": "Bearer ${mintToken(key, { role: 'partner', sub: 'partner-demo', partnerId: 'partner-demo' })}"}`,
  ];
  const memberToken = memberId ? mintToken(key, { role: 'member', sub: memberId }) : null;
  if (memberToken) lines.push(`  member:  {"Authorization": "Bearer ${memberToken}"}`);
  // The examples (npm run examples serves them on 5173/5174, the development CORS origins).
  const api = encodeURIComponent(url);
  lines.push('', 'Examples (run `npm run examples` beside this server, then open):');
  if (memberToken) lines.push(`  member app: http://localhost:5173/?api=${api}&token=${memberToken}`);
  lines.push(`  dashboard:  http://localhost:5174/?api=${api}&token=${mintToken(key, { role: 'admin', sub: 'admin-demo' })}`);
  lines.push('', `Try: curl -s ${url}/graphql -H 'content-type: application/json' -H "Authorization: Bearer <admin token>" -d '{"query":"{ tiers { name multiplier } }"}'`);
  lines.push(
    `     curl -s ${url}/partner/graphql -H 'content-type: application/json' -H "Authorization: Bearer <partner token>" -d '{"documentId":"sha256:<id of MemberByExternalId>","variables":{"externalId":"demo-001"}}'   (README, "Partners")`,
  );
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

async function main() {
  // `npm start` (a checkout) passes --demo: there an unset NODE_ENV means development. The production
  // entry (`npm run serve`, `node dist/src/main.js`) defaults to production, so it fails closed.
  const fromCheckout = process.argv.includes('--demo');
  let config: Config;
  try {
    config = loadConfig(process.env, { defaultEnv: fromCheckout ? 'development' : 'production' });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, { pretty: config.env === 'development' });
  try {
    await preflight(config);
  } catch (error) {
    if (error instanceof ServiceDownError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const applied = await migrateDatabase(config);
  if (applied.length) log.info({ migrations: applied }, 'migrations applied');
  const app = await createApp(config, { logger: log });
  // Demo members and printed tokens are for a developer's machine only, whatever the flags say.
  const demo = fromCheckout && config.env === 'development';
  if (fromCheckout && !demo) log.info({ env: config.env }, 'demo data and tokens are only for NODE_ENV=development: none seeded or printed');
  const seed = demo ? await seedDemo(app.orm, app.services) : null;
  if (seed?.seeded) log.info({ members: seed.memberIds.length }, 'demo data seeded');
  const url = await app.listen();
  log.info({ url }, 'listening');
  if (seed) printTokens(config, url, seed.memberIds[0]);

  // This process owns SIGTERM/SIGINT (Apollo's handlers are off, see app.ts): drain, then exit 0
  // within SHUTDOWN_GRACE_MS. A second signal falls through to Node's default and ends it at once.
  const shutdown = (signal: string) => {
    // Process time, not the program's clock: SHUTDOWN_GRACE_MS is a duration on real timers.
    const started = Date.now();
    const grace = config.shutdownGraceMs;
    log.info({ signal, graceMs: grace }, 'shutting down');
    const force = setTimeout(() => {
      log.error({ graceMs: grace }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, grace);
    force.unref();
    app
      .stop({
        // Requests a client sent on a kept-alive socket just as the signal came are still answered.
        lingerMs: Math.min(SHUTDOWN_LINGER_MS, grace / 4),
        // What is left after closing HTTP: jobs' last batch, Redis and the pool, within the grace.
        deadline: started + Math.max(grace / 2, grace - CLOSE_RESERVE_MS),
      })
      .then(
        () => {
          log.info({ ms: Date.now() - started }, 'shut down');
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${(error as Error).message?.split('\n')[0] ?? String(error)}\n`);
  process.exit(1);
});
