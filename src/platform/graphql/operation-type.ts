import type { ApolloServerPlugin } from '@apollo/server';

/** What a request's context knows about its operation once Apollo has resolved it. */
export interface OperationAware {
  /**
   * type: null until resolved, and on transports that do not run Apollo's plugins (graphql-ws).
   * A holder, not a field: Apollo may hand resolvers a copy of the context object, and a copy
   * shares the holder.
   */
  operation: { type: 'query' | 'mutation' | 'subscription' | null };
}

/**
 * Records the operation type in the context as soon as Apollo resolves the operation, before any
 * field runs. Reads that may come from a lagging replica use it (issue 20): only a query may,
 * because a mutation's payload must show what the mutation just wrote (read-your-own-write),
 * and anything not known to be a query is treated like a mutation.
 */
export function operationTypePlugin<T extends OperationAware>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          contextValue.operation.type = operation?.operation ?? null;
        },
      };
    },
  };
}
