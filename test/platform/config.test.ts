import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/platform/config';
import { TokenVerifier } from '../../src/auth/jwt';

/** The problems loadConfig lists for an environment (it must refuse it). */
function problemsOf(env: Record<string, string>, options?: { defaultEnv?: 'development' | 'production' }): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const SECRET_32 = 'k'.repeat(32);

describe('loadConfig', () => {
  it('has working defaults for development', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      production: false,
      port: 4000,
      redisPrefix: 'loyalty:',
      timeZone: 'Asia/Shanghai',
      jwt: { algorithm: 'HS256', issuer: 'loyalty-bff', audience: 'loyalty-api' },
      limits: { maxDepth: 10, maxAliases: 15, maxTokens: 3000, maxCost: 5000 },
      ws: { maxSubscriptions: 20 },
      jobs: { enabled: true },
    });
    expect(config.jwt.key.length).toBeGreaterThanOrEqual(32);
  });

  it('reads and coerces what it is given; empty values count as unset', () => {
    const config = loadConfig({ PORT: '8080', JOBS_ENABLED: 'no', GRAPHQL_MAX_DEPTH: '7', PROGRAM_TIMEZONE: 'Europe/Paris', REDIS_URL: 'rediss://cache:6380', HOST: '' });
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', jobs: { enabled: false }, limits: { maxDepth: 7 }, timeZone: 'Europe/Paris', redisUrl: 'rediss://cache:6380' });
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ PORT: 'abc', REDIS_URL: 'ftp://x' });
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('PORT:'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('REDIS_URL:'))).toBeDefined();

    const many = problemsOf({
      NODE_ENV: 'production',
      PORT: 'abc',
      REDIS_URL: 'ftp://x',
      DATABASE_URL: 'mysql://root@db/loyalty',
      LOG_LEVEL: 'loud',
      JOBS_ENABLED: 'maybe',
      GRAPHQL_MAX_TOKENS: '50',
      PROGRAM_TIMEZONE: 'Mars/Olympus_Mons',
    });
    const named = many.map((p) => p.split(':')[0]).sort();
    expect(named).toEqual(['DATABASE_URL', 'GRAPHQL_MAX_TOKENS', 'JOBS_ENABLED', 'JWT_SECRET', 'LOG_LEVEL', 'PORT', 'PROGRAM_TIMEZONE', 'REDIS_URL']);
    expect(() => loadConfig({ PORT: 'abc', REDIS_URL: 'ftp://x' })).toThrow(/Invalid configuration:\n {2}- PORT: .*\n {2}- REDIS_URL: /);
  });

  it('fails closed outside development and test: no built-in, short or missing secret, now or previous', () => {
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET })).toEqual(['JWT_SECRET: the built-in development secret is not allowed in production']);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET_32, JWT_SECRET_PREVIOUS: 'old' })).toEqual(['JWT_SECRET_PREVIOUS: must be at least 32 bytes in production']);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET_32, JWT_SECRET_PREVIOUS: DEV_JWT_SECRET })).toHaveLength(1);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET_32, JWT_SECRET_PREVIOUS: 'o'.repeat(32) }).jwt.previousKey).toBe('o'.repeat(32));
    // The production entry passes defaultEnv: an unset NODE_ENV is production there, development elsewhere.
    expect(problemsOf({}, { defaultEnv: 'production' })).toEqual(['JWT_SECRET: required in production (or set JWT_PUBLIC_KEY)']);
    expect(loadConfig({ JWT_SECRET: SECRET_32 }, { defaultEnv: 'production' }).production).toBe(true);
    expect(loadConfig({}).env).toBe('development');
    // One problem is one line: what an operator sees when the process refuses to start.
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/^Invalid configuration: JWT_SECRET: required in production \(or set JWT_PUBLIC_KEY\)$/);
  });

  it('reads JWT_MAX_AGE as a duration (default 30 days) and the clock tolerance in seconds (default 5)', () => {
    expect(loadConfig({}).jwt).toMatchObject({ maxAgeSeconds: 30 * 86_400, clockToleranceSeconds: 5 });
    expect(loadConfig({ JWT_MAX_AGE: '12h', JWT_CLOCK_TOLERANCE_SECONDS: '0' }).jwt).toMatchObject({ maxAgeSeconds: 12 * 3600, clockToleranceSeconds: 0 });
    expect(loadConfig({ JWT_MAX_AGE: '900' }).jwt.maxAgeSeconds).toBe(900);
    expect(problemsOf({ JWT_MAX_AGE: 'forever' })[0]).toMatch(/^JWT_MAX_AGE:/);
    expect(problemsOf({ JWT_MAX_AGE: '0d' })[0]).toMatch(/^JWT_MAX_AGE:/);
  });

  it('reads the WebSocket caps and TRUST_PROXY', () => {
    expect(loadConfig({}).ws).toMatchObject({ maxConnectionsPerPrincipal: 10, maxConnectionsPerIp: 200, keepAliveMs: 30_000 });
    expect(loadConfig({ WS_KEEPALIVE_MS: '5000' }).ws.keepAliveMs).toBe(5000);
    expect(problemsOf({ WS_KEEPALIVE_MS: '10' })[0]).toMatch(/^WS_KEEPALIVE_MS:/);
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ WS_MAX_CONNECTIONS_PER_PRINCIPAL: '3', WS_MAX_CONNECTIONS_PER_IP: '7', TRUST_PROXY: 'true' })).toMatchObject({
      ws: { maxConnectionsPerPrincipal: 3, maxConnectionsPerIp: 7 },
      trustProxy: true,
    });
  });

  it('refuses an unknown NODE_ENV', () => {
    expect(problemsOf({ NODE_ENV: 'staging' })[0]).toMatch(/^NODE_ENV:/);
  });

  it('requires a JWT secret of at least 32 bytes in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['JWT_SECRET: required in production (or set JWT_PUBLIC_KEY)']);
    const short = problemsOf({ NODE_ENV: 'production', JWT_SECRET: '0123456789' });
    expect(short).toEqual(['JWT_SECRET: must be at least 32 bytes in production']);
    expect(short.join()).not.toContain('0123456789'); // the secret itself is never echoed
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'k'.repeat(31) })).toHaveLength(1);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: '密'.repeat(10) })).toHaveLength(1); // 30 bytes

    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET_32 }).jwt).toMatchObject({ algorithm: 'HS256', key: SECRET_32 });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: '密'.repeat(11) }).production).toBe(true); // 33 bytes
    // Outside production a missing secret falls back to the development one.
    expect(loadConfig({ NODE_ENV: 'test' }).jwt.algorithm).toBe('HS256');
  });

  it('switches to RS256 with JWT_PUBLIC_KEY, which then needs no secret even in production', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const config = loadConfig({ NODE_ENV: 'production', JWT_PUBLIC_KEY: pem, JWT_ISSUER: 'idp', JWT_AUDIENCE: 'mall' });
    expect(config.jwt).toEqual({ algorithm: 'RS256', key: pem, previousKey: null, issuer: 'idp', audience: 'mall', maxAgeSeconds: 30 * 86_400, clockToleranceSeconds: 5 });

    const verifier = new TokenVerifier(config.jwt);
    const claims = { role: 'admin', sub: 'ops' };
    const signed = jwt.sign(claims, privateKey, { algorithm: 'RS256', issuer: 'idp', audience: 'mall', expiresIn: 60 });
    expect(verifier.verify(signed)).toEqual({ role: 'admin', subject: 'ops', memberId: null, partnerId: null, expiresAt: expect.any(Number) });
    // The classic confusion: an HS256 token "signed" with the public key as the HMAC secret.
    const forged = jwt.sign(claims, Buffer.from(pem), { algorithm: 'HS256', issuer: 'idp', audience: 'mall', expiresIn: 60 });
    expect(() => verifier.verify(forged)).toThrow(/not valid/);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => verifier.verify(jwt.sign(claims, otherKey, { algorithm: 'RS256', issuer: 'idp', audience: 'mall', expiresIn: 60 }))).toThrow(/not valid/);
  });

  it('refuses a JWT_PUBLIC_KEY that is not a public key, instead of refusing every token later', () => {
    expect(problemsOf({ JWT_PUBLIC_KEY: 'garbage' })).toEqual(['JWT_PUBLIC_KEY: not a PEM public key']);
  });

  it('refuses a PROGRAM_TIMEZONE that is not an IANA zone', () => {
    expect(problemsOf({ PROGRAM_TIMEZONE: 'China Standard Time' })).toEqual(['PROGRAM_TIMEZONE: not an IANA time zone']);
    expect(problemsOf({ PROGRAM_TIMEZONE: '+08:00x' })).toHaveLength(1);
    expect(loadConfig({ PROGRAM_TIMEZONE: 'UTC' }).timeZone).toBe('UTC');
  });
});
