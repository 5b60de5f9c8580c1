import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  // The probe that loses the race may still fail later (at shutdown): that is not an unhandled error.
  promise.catch(() => undefined);
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
};

export interface Readiness {
  ready: boolean;
  /** 'ok', or what failed. */
  checks: Record<string, string>;
}

/**
 * /readyz: PostgreSQL and Redis both answer within a second, and we are not shutting down.
 * It needs no token, so in production it names the dependency that is down but never its error
 * text (host names, ports, driver messages); `showErrors` is for development.
 */
export async function checkReadiness(orm: MikroORM, redis: Redis, shuttingDown: boolean, showErrors = true): Promise<Readiness> {
  const probe = async (run: () => Promise<unknown>) => {
    try {
      await withTimeout(run(), 1000);
      return 'ok' as const;
    } catch (error) {
      return (showErrors && (error as Error).message) || 'unavailable';
    }
  };
  const [postgres, redisCheck] = await Promise.all([probe(() => orm.em.getConnection().execute('select 1')), probe(() => redis.ping())]);
  const checks = { postgres, redis: redisCheck, shutdown: shuttingDown ? 'in progress' : 'ok' };
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

/**
 * The last readiness seen, for Prometheus (alerts on a dependency down or an instance unready).
 * Set by /readyz and by the background check; a scrape only reads it.
 */
export class ReadinessMetrics {
  private readonly ready: Gauge;
  private readonly dependencyUp: Gauge<'dependency'>;

  constructor(registry: Registry) {
    this.ready = new Gauge({ name: 'loyalty_ready', help: '1 when the last readiness check passed', registers: [registry] });
    this.dependencyUp = new Gauge({ name: 'loyalty_dependency_up', help: '1 when the dependency answered the last readiness check', labelNames: ['dependency'], registers: [registry] });
  }

  record(readiness: Readiness): void {
    this.ready.set(readiness.ready ? 1 : 0);
    for (const dependency of ['postgres', 'redis']) this.dependencyUp.set({ dependency }, readiness.checks[dependency] === 'ok' ? 1 : 0);
  }
}
