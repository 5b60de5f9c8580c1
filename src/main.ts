import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './platform/config';
import { preflight, ServiceDownError } from './platform/preflight';
import { migrate, openOrm } from './platform/db/orm';
import { createLogger } from './platform/logger';
import { mintToken } from './auth/jwt';
import { createApp } from './app';
import { seedDemo } from './demo/seed';

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
  lines.push(`     curl -s ${url}/partner/graphql -H 'content-type: application/json' -H "Authorization: Bearer <partner token>" -d '{"documentId":"sha256:<id of MemberByExternalId>","variables":{"externalId":"demo-001"}}'   (README, "Partners")`);
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}

async function main() {
  const demo = process.argv.includes('--demo');
  let config: Config;
  try {
    config = loadConfig();
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
  const seed = demo ? await seedDemo(app.orm, app.services) : null;
  if (seed?.seeded) log.info({ members: seed.memberIds.length }, 'demo data seeded');
  const url = await app.listen();
  log.info({ url }, 'listening');
  if (seed) printTokens(config, url, seed.memberIds[0]);

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), config.shutdownGraceMs);
    force.unref();
    app.stop().then(
      () => process.exit(0),
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
