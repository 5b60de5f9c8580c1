import 'reflect-metadata';
import { loadConfig } from '../platform/config';
import { preflight } from '../platform/preflight';
import { migrate, openOrm } from '../platform/db/orm';

async function run() {
  const config = loadConfig();
  await preflight(config);
  const orm = await openOrm(config.databaseUrl, 2);
  try {
    const applied = await migrate(orm);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
  } finally {
    await orm.close();
  }
}

run().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
