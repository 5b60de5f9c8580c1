import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp, type App } from '../../src/app';
import { loadConfig } from '../../src/platform/config';
import { ManualClock } from '../../src/platform/clock';
import { createDatabaseFromTemplate, dropDatabase } from './db';
import { tokens } from './tokens';
import { onFileEnd } from './file-scope';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  clock: ManualClock;
  databaseUrl: string;
  redisPrefix: string;
  /** Raw GraphQL over HTTP; fails the test on any INTERNAL_SERVER_ERROR unless allowInternal. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null, options?: { allowInternal?: boolean; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** Data of a request that must succeed. */
  ok<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<T>;
  /** The error code of a request that must fail. */
  code(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<string | undefined>;
  /** A graphql-ws client as a browser would open it. */
  ws(token: string | null, options?: { connectionParams?: Record<string, unknown> }): Client;
  stop(): Promise<void>;
}

interface FileState {
  /** Names this file's database and Redis prefixes. */
  id: string;
  database: Promise<{ name: string; url: string }> | null;
  running: TestApp[];
}
let file: FileState | null = null;

/** This test file's state, created on first use and cleaned up when the file ends (file-scope.ts). */
function currentFile(): FileState {
  if (!file) {
    const state: FileState = { id: `${process.pid}_${randomBytes(3).toString('hex')}`, database: null, running: [] };
    file = state;
    onFileEnd(async () => {
      file = null;
      await Promise.all(state.running.splice(0).map((a) => a.stop()));
      if (state.database) await dropDatabase((await state.database).name);
    });
  }
  return file;
}

/** One database per test file, copied from the migrated template on first use. */
function fileDatabase() {
  const state = currentFile();
  state.database ??= (async () => {
    const name = `loyalty_t_${state.id}`;
    return { name, url: await createDatabaseFromTemplate(name) };
  })();
  return state.database;
}

export interface StartOptions {
  /** Start a second instance on the same database and Redis namespace as this one. */
  sharing?: TestApp;
  now?: string | Date;
  env?: Record<string, string>;
  /** The app's logger (tests that read log lines pass one writing to a stream). */
  logger?: import('../../src/platform/logger').Logger;
  /** Reach the file's database another way (through a fault-injecting TCP proxy): maps its URL to the one the app uses. */
  databaseVia?: (url: string) => string;
}

export async function startApp(options: StartOptions = {}): Promise<TestApp> {
  const db = options.sharing ? { url: options.sharing.databaseUrl } : await fileDatabase();
  const redisPrefix = options.sharing?.redisPrefix ?? `t:${currentFile().id}:${randomBytes(2).toString('hex')}:`;
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.databaseVia ? options.databaseVia(db.url) : db.url,
    DATABASE_POOL_MAX: '10',
    REDIS_PREFIX: redisPrefix,
    JOBS_ENABLED: 'false',
    // No background gauge refresh or readiness probe lands inside a test that counts queries: tests refresh by hand.
    BUSINESS_GAUGES_INTERVAL_MS: '3600000',
    ...options.env,
  });
  const clock = options.sharing?.clock ?? new ManualClock(options.now ?? '2026-03-02T02:00:00.000Z');
  const app = await createApp(config, { clock, logger: options.logger });
  const url = await app.listen(0, '127.0.0.1');
  const wsUrl = `${url.replace(/^http/, 'ws')}/graphql`;
  const clients: Client[] = [];

  const gql: TestApp['gql'] = async (query, variables, token, opts = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...opts.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLResponse;
    if (!opts.allowInternal) {
      const internal = body.errors?.find((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
      expect(internal, `unexpected INTERNAL_SERVER_ERROR: ${JSON.stringify(body.errors)}`).toBeUndefined();
    }
    return { ...body, status: res.status };
  };

  const testApp: TestApp = {
    app,
    url,
    wsUrl,
    clock,
    databaseUrl: db.url,
    redisPrefix,
    gql,
    async ok(query, variables, token = tokens.admin()) {
      const res = await gql(query, variables, token);
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      return res.data;
    },
    async code(query, variables, token = tokens.admin()) {
      const res = await gql(query, variables, token);
      expect(res.errors?.length, `expected an error, got ${JSON.stringify(res.data)}`).toBeGreaterThan(0);
      return res.errors![0].extensions?.code;
    },
    ws(token, wsOptions = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: wsOptions.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
        onNonLazyError: () => {},
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map(async (c) => c.dispose()));
      await app.stop();
    },
  };
  currentFile().running.push(testApp);
  return testApp;
}

/** Runs one operation over a graphql-ws client and resolves with its first result. */
export function wsExecute<T = any>(client: Client, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  return new Promise((resolve, reject) => {
    let result: GraphQLResponse<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = { status: 200, ...(value as object) } as GraphQLResponse<T>),
        error: (error) => (Array.isArray(error) ? resolve({ status: 200, errors: error as GraphQLResponse['errors'] }) : reject(error)),
        complete: () => resolve(result ?? { status: 200 }),
      },
    );
  });
}

/**
 * Waits until a Redis channel (`BALANCE:<memberId>`, …) has a subscriber, so nothing published
 * afterwards can be missed. Tolerates a Redis that is still coming back.
 */
export async function untilSubscribed(api: TestApp, topic: string, timeoutMs = 3000): Promise<void> {
  const channel = `${api.redisPrefix}${topic}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const [, count] = (await api.app.redis.publisher.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(count) > 0) return;
    } catch {
      // Redis is still coming back.
    }
    if (Date.now() > deadline) throw new Error(`${channel} not subscribed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
