import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { OperationTypeNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import type { Session } from './session';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

/**
 * Backoff between reconnects: 0.5 s, 1 s, 2 s … capped at 30 s, with full jitter so a thousand
 * phones waking together do not reconnect in the same second.
 */
export function reconnectDelayMs(retries: number, random: () => number = Math.random): number {
  const cap = Math.min(30_000, 500 * 2 ** retries);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export interface ExampleClient {
  apollo: ApolloClient;
  socket: Client;
  /** Subscribe to the socket's state (the connection indicator). */
  onState(listener: (state: ConnectionState) => void): () => void;
}

/**
 * Queries and mutations over HTTP (POST /graphql, bearer token); every subscription over ONE
 * graphql-ws socket (WeChat allows a mini-program 5 sockets; a phone's radio one wake-up).
 * After a reconnect the active queries are read again: events sent while the socket was down
 * are not replayed, so the screen re-reads its state instead of trusting a stale balance.
 */
export function createExampleClient(session: Session): ExampleClient {
  const listeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of listeners) listener(next);
  };
  const authorization = session.token ? `Bearer ${session.token}` : '';

  let apollo: ApolloClient | null = null;
  const socket = createClient({
    url: `${session.api.replace(/^http/, 'ws')}/graphql`,
    lazy: false,
    connectionParams: () => ({ authorization }),
    // Ping every 10 s: a socket that died while the phone slept is noticed and replaced.
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, reconnectDelayMs(retries))),
    on: {
      connecting: () => setState(state === 'connecting' ? 'connecting' : 'reconnecting'),
      connected: (_socket, _payload, wasRetry) => {
        setState('online');
        if (wasRetry) void apollo?.refetchQueries({ include: 'active' });
      },
      closed: () => setState(navigator.onLine ? 'reconnecting' : 'offline'),
    },
  });
  // A phone coming back: do not wait for the backoff timer when the page is visible again.
  window.addEventListener('online', () => setState('reconnecting'));

  const http = new HttpLink({ uri: `${session.api}/graphql`, headers: authorization ? { authorization } : {} });
  const ws = new GraphQLWsLink(socket);
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === OperationTypeNode.SUBSCRIPTION;
    },
    ws,
    http,
  );
  apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  return {
    apollo,
    socket,
    onState(listener) {
      listeners.add(listener);
      listener(state);
      return () => listeners.delete(listener);
    },
  };
}
