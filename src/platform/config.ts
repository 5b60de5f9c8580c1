import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/** Verifies tokens in development and tests only: outside them the process refuses to start with it. */
export const DEV_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

/** The environments where the built-in secret and demo data are allowed. */
const LOCAL_ENVS = new Set(['development', 'test']);

/** `30d`, `12h`, `90m`, `45s` or plain seconds. */
const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const durationSeconds = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => DURATION.test(v.trim()), { message: 'a duration such as 30d, 12h, 90m or 3600 (seconds)' })
    .transform((v) => {
      const [, n, unit] = DURATION.exec(v.trim())!;
      return Number(n) * UNIT_SECONDS[(unit ?? 's') as keyof typeof UNIT_SECONDS];
    })
    .refine((v) => v > 0, { message: 'must be longer than 0' });

/** Vite's default ports: examples/member-app (5173) and examples/dashboard (5174). */
const DEV_CORS_ORIGINS = ['http://localhost:5173', 'http://localhost:5174'];

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

const intFrom = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const partnerSchema = z.strictObject({
  /** What members see as the source of this partner's postings. */
  name: z.string().min(1),
  /** Operation names this partner may run; absent: every partner operation. */
  operations: z.array(z.string().min(1)).optional(),
  /** Token bucket: sustained requests per second and burst, instead of the defaults. */
  ratePerSecond: z.number().int().min(1).optional(),
  burst: z.number().int().min(1).optional(),
});

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: intFrom(4000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://root@127.0.0.1:5432/loyalty'),
  DATABASE_POOL_MAX: intFrom(20, 1),
  /** Read replicas (comma-separated URLs) for the reads that may lag: docs/scaling.md, "Read replicas". */
  DATABASE_READ_URLS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^postgres(ql)?$/, message: 'each entry must be a postgres:// URL' }))),
  /** Admitted redemptions of one hot item running their transaction at once per instance (default: DATABASE_POOL_MAX). */
  FLASH_SALE_WINNERS_AT_ONCE: z.coerce.number().int().min(1).optional(),
  DATABASE_STATEMENT_TIMEOUT_MS: intFrom(5000, 100),
  DATABASE_CONNECT_TIMEOUT_MS: intFrom(2000, 100),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Redis Cluster seed nodes (`host:port,host:port`): every Redis use goes to the cluster instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, { message: 'each entry must be host:port' }))),
  /** Namespaces every key and channel, so several deployments (or test files) share one Redis. */
  REDIS_PREFIX: z.string().default('loyalty:'),
  JWT_SECRET: z.string().optional(),
  /** The secret being rotated out: tokens signed with it are still accepted (SECURITY.md). */
  JWT_SECRET_PREVIOUS: z.string().optional(),
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('loyalty-bff'),
  JWT_AUDIENCE: z.string().min(1).default('loyalty-api'),
  JWT_MAX_AGE: durationSeconds('30d'),
  JWT_CLOCK_TOLERANCE_SECONDS: intFrom(5, 0),
  PROGRAM_TIMEZONE: z.string().default('Asia/Shanghai').refine(isTimeZone, { message: 'not an IANA time zone' }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHQL_MAX_DEPTH: intFrom(10, 1),
  GRAPHQL_MAX_ALIASES: intFrom(15, 0),
  GRAPHQL_MAX_TOKENS: intFrom(3000, 100),
  GRAPHQL_MAX_COST: intFrom(5000, 1),
  WS_MAX_SUBSCRIPTIONS: intFrom(20, 1),
  WS_INIT_TIMEOUT_MS: intFrom(3000, 100),
  WS_MAX_CONNECTIONS_PER_PRINCIPAL: intFrom(10, 1),
  WS_MAX_CONNECTIONS_PER_IP: intFrom(200, 1),
  WS_KEEPALIVE_MS: intFrom(30_000, 1000),
  /** Behind a reverse proxy: take the client address from X-Forwarded-For (set by the proxy). */
  TRUST_PROXY: bool(false),
  JOBS_ENABLED: bool(true),
  JOBS_INTERVAL_MS: intFrom(60_000, 100),
  SHUTDOWN_GRACE_MS: intFrom(10_000, 0),
  LEADERBOARD_COALESCE_MS: intFrom(500, 10),
  LEADERBOARD_RETENTION_DAYS: intFrom(90, 1),
  STATS_INTERVAL_MS: intFrom(5000, 100),
  /** How often each instance recomputes the business gauges it serves on /metrics (one query). */
  BUSINESS_GAUGES_INTERVAL_MS: intFrom(30_000, 1000),
  PAYMENT_WINDOW_SECONDS: intFrom(900, 1),
  PURCHASE_MAX_AGE_DAYS: intFrom(30, 0),
  PURCHASE_MAX_FUTURE_SECONDS: intFrom(300, 0),
  /** Browser origins allowed to call /graphql and open the socket (comma-separated; README, "Browsers and CORS"). */
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const origins = text
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!isOrigin(origin)) ctx.addIssue({ code: 'custom', message: `${origin} is not an origin (scheme://host[:port], no path)` });
      }
      return origins;
    }),
  /** Partners by partnerId: display name, allowed operations, rate overrides (README, "Partners"). */
  PARTNERS: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().min(1), partnerSchema)),
  PARTNER_RATE_PER_SECOND: intFrom(100, 1),
  PARTNER_RATE_BURST: intFrom(200, 1),
  PARTNER_AUDIT_FLUSH_MS: intFrom(1000, 10),
  APQ_TTL_SECONDS: intFrom(86_400, 1),
  TIER_VALIDITY_MONTHS: intFrom(12, 1),
  TIER_GRACE_MONTHS: intFrom(3, 1),
});

export type Config = ReturnType<typeof toConfig>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function toConfig(env: z.output<typeof schema>) {
  return {
    env: env.NODE_ENV,
    production: env.NODE_ENV === 'production',
    // Development: the examples' Vite dev servers (examples/). Elsewhere nobody until configured.
    corsOrigins: env.CORS_ORIGINS ?? (env.NODE_ENV === 'development' ? DEV_CORS_ORIGINS : []),
    host: env.HOST,
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    flashSale: { winnersAtOnce: env.FLASH_SALE_WINNERS_AT_ONCE ?? env.DATABASE_POOL_MAX },
    databaseReadUrls: env.DATABASE_READ_URLS,
    databaseTimeouts: { statementMs: env.DATABASE_STATEMENT_TIMEOUT_MS, connectMs: env.DATABASE_CONNECT_TIMEOUT_MS },
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    redisClusterNodes: env.REDIS_CLUSTER_NODES.map((n) => ({ host: n.slice(0, n.lastIndexOf(':')), port: Number(n.slice(n.lastIndexOf(':') + 1)) })),
    jwt: {
      ...(env.JWT_PUBLIC_KEY
        ? { algorithm: 'RS256' as const, key: env.JWT_PUBLIC_KEY, previousKey: null }
        : { algorithm: 'HS256' as const, key: env.JWT_SECRET ?? DEV_JWT_SECRET, previousKey: env.JWT_SECRET_PREVIOUS ?? null }),
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      maxAgeSeconds: env.JWT_MAX_AGE,
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
    },
    timeZone: env.PROGRAM_TIMEZONE,
    logLevel: env.LOG_LEVEL,
    limits: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxTokens: env.GRAPHQL_MAX_TOKENS,
      maxCost: env.GRAPHQL_MAX_COST,
    },
    ws: {
      maxSubscriptions: env.WS_MAX_SUBSCRIPTIONS,
      initTimeoutMs: env.WS_INIT_TIMEOUT_MS,
      maxConnectionsPerPrincipal: env.WS_MAX_CONNECTIONS_PER_PRINCIPAL,
      maxConnectionsPerIp: env.WS_MAX_CONNECTIONS_PER_IP,
      keepAliveMs: env.WS_KEEPALIVE_MS,
    },
    trustProxy: env.TRUST_PROXY,
    /** Largest GraphQL request body over HTTP, and so the largest WebSocket message. */
    maxBodyBytes: MAX_BODY_BYTES,
    jobs: { enabled: env.JOBS_ENABLED, intervalMs: env.JOBS_INTERVAL_MS },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    payments: { windowSeconds: env.PAYMENT_WINDOW_SECONDS },
    purchases: { maxAgeDays: env.PURCHASE_MAX_AGE_DAYS, maxFutureSeconds: env.PURCHASE_MAX_FUTURE_SECONDS },
    partners: {
      byId: env.PARTNERS,
      ratePerSecond: env.PARTNER_RATE_PER_SECOND,
      burst: env.PARTNER_RATE_BURST,
      auditFlushMs: env.PARTNER_AUDIT_FLUSH_MS,
    },
    apqTtlSeconds: env.APQ_TTL_SECONDS,
    tiers: { validityMonths: env.TIER_VALIDITY_MONTHS, graceMonths: env.TIER_GRACE_MONTHS },
    leaderboard: { coalesceMs: env.LEADERBOARD_COALESCE_MS, retentionDays: env.LEADERBOARD_RETENTION_DAYS, statsIntervalMs: env.STATS_INTERVAL_MS },
    businessGaugesIntervalMs: env.BUSINESS_GAUGES_INTERVAL_MS,
  };
}

/** 100 kB, as express.json's default: far above any real operation, far below a memory problem. */
export const MAX_BODY_BYTES = 100 * 1024;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One problem, one line: what an operator sees when the process refuses to start.
    super(problems.length === 1 ? `Invalid configuration: ${problems[0]}` : `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The token key checks. Kept out of the zod schema on purpose: a refinement there only runs once
 * every field parsed, so a missing production secret would go unreported beside a bad PORT.
 */
function keyProblems(env: Record<string, string | undefined>): string[] {
  if (env.JWT_PUBLIC_KEY) {
    try {
      createPublicKey(env.JWT_PUBLIC_KEY);
      return [];
    } catch {
      return ['JWT_PUBLIC_KEY: not a PEM public key'];
    }
  }
  // Fail closed: only development and test may run on the built-in secret or a short one.
  if (LOCAL_ENVS.has(env.NODE_ENV ?? 'development')) return [];
  return [secretProblem('JWT_SECRET', env.JWT_SECRET, true), secretProblem('JWT_SECRET_PREVIOUS', env.JWT_SECRET_PREVIOUS, false)].filter((p): p is string => !!p);
}

function secretProblem(name: string, secret: string | undefined, required: boolean): string | null {
  if (!secret) return required ? `${name}: required in production (or set JWT_PUBLIC_KEY)` : null;
  if (secret === DEV_JWT_SECRET) return `${name}: the built-in development secret is not allowed in production`;
  if (Buffer.byteLength(secret) < 32) return `${name}: must be at least 32 bytes in production`;
  return null;
}

/** Parses the whole environment once and reports every problem together. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { defaultEnv?: 'development' | 'production' } = {}): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  // The production entry passes defaultEnv 'production': an unset NODE_ENV never means development there.
  clean.NODE_ENV ??= options.defaultEnv ?? 'development';
  const parsed = schema.safeParse(clean);
  const problems = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)), ...keyProblems(clean)];
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  return toConfig(parsed.data);
}
