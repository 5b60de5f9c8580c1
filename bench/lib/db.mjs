// The bench's own database: dropped and created afresh, migrated with the app's own migrations.
import pg from 'pg';
import { dist } from './dist.mjs';

const DEFAULT_URL = 'postgres://root@127.0.0.1:5432/loyalty';

/** The server of DATABASE_URL (default: the app's), with another database name. */
export function databaseUrl(name, base = process.env.DATABASE_URL || DEFAULT_URL) {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

async function withAdmin(run) {
  const url = new URL(databaseUrl('postgres'));
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(name) {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** Drops and creates `name`, then applies every migration the app ships (dist/migrations). */
export async function freshDatabase(name) {
  await withAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
  const url = databaseUrl(name);
  const { openOrm, migrate } = dist('src/platform/db/orm.js');
  const orm = await openOrm(url, 2);
  try {
    return { url, migrations: await migrate(orm) };
  } finally {
    await orm.close();
  }
}

/** A short-lived pg client on `url` for seeding and checks. */
export async function withClient(url, run) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
