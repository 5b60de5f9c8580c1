import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from './root';
import { quoteIdent, splitDatabaseUrl } from '../../src/platform/db/database';

export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/loyalty';

export function databaseUrl(name: string): string {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The template is named after the migrations' content: a changed migration builds a new one. */
export function templateName(): string {
  // From test/support, or from dist/test/support when compiled for `npm run chaos`: the sources either way.
  const dir = join(ROOT, 'migrations');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return `loyalty_tmpl_${hash.digest('hex').slice(0, 12)}`;
}

export async function withAdminClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: splitDatabaseUrl(BASE_DATABASE_URL).adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** CREATE DATABASE … TEMPLATE is a file copy: a fresh migrated database in tens of milliseconds. */
export async function createDatabaseFromTemplate(name: string): Promise<string> {
  await withAdminClient(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateName())}`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent copy; try again.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  return databaseUrl(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}
