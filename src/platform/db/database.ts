import pg from 'pg';

/** Splits postgres://…/name into the server URL (maintenance database) and the database name. */
export function splitDatabaseUrl(databaseUrl: string): { adminUrl: string; database: string } {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  url.pathname = '/postgres';
  return { adminUrl: url.toString(), database };
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `npm start` on a fresh machine: create the program's database when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { adminUrl, database } = splitDatabaseUrl(databaseUrl);
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
    } catch (error) {
      // Another instance created it between our check and our CREATE.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}
