import type { Client } from 'graphql-ws';
import { startApp, type GraphQLResponse, type StartOptions, type TestApp } from './app';
import { tokens } from './tokens';

/**
 * N instances over one database, one Redis namespace and one clock, as a load balancer would
 * front them: every request and every socket goes to the next instance in turn (round robin),
 * so no scenario can pass by accident on a single process.
 */
export interface Fleet {
  instances: TestApp[];
  /** The instance the next request or socket goes to (round robin over all of them). */
  next(): TestApp;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  ok<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<T>;
  /** A socket on the next instance, with the instance it landed on. */
  ws(token: string | null): { client: Client; on: TestApp };
}

export async function startFleet(size: number, options: Omit<StartOptions, 'sharing'> = {}): Promise<Fleet> {
  // Five connections per instance, not app.ts's ten: N pools share PostgreSQL's max_connections
  // (100) with the other test file running at once (three instances at ten reached 30 alone).
  options = { ...options, env: { DATABASE_POOL_MAX: '5', ...options.env } };
  const first = await startApp(options);
  const rest = await Promise.all(Array.from({ length: size - 1 }, () => startApp({ ...options, sharing: first })));
  const instances = [first, ...rest];
  let turn = 0;
  const next = () => instances[turn++ % instances.length];
  return {
    instances,
    next,
    gql: (query, variables, token) => next().gql(query, variables, token),
    ok: (query, variables, token = tokens.admin()) => next().ok(query, variables, token),
    ws(token) {
      const on = next();
      return { client: on.ws(token), on };
    },
  };
}
