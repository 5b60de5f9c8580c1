import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config';
import { preflight, ServiceDownError } from '../../src/platform/preflight';

describe('preflight', () => {
  it('names PostgreSQL and how to start it when it cannot be reached', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://root@127.0.0.1:1/loyalty' });
    const error = await preflight(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceDownError);
    expect((error as Error).message).toMatch(/^PostgreSQL is not reachable at 127\.0\.0\.1:1 \(ECONNREFUSED\)\. Start it with: pg_ctlcluster/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('names Redis and how to start it when it cannot be reached', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/loyalty', REDIS_URL: 'redis://127.0.0.1:1' });
    const error = await preflight(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceDownError);
    expect((error as Error).message).toMatch(/^Redis is not reachable at 127\.0\.0\.1:1 .*redis-server/);
  });
});
