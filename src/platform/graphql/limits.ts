import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import type { Config } from '../config';

/**
 * graphql-armor's rules throw their refusal by default (`propagateOnRejection`), which makes
 * graphql's validate() throw instead of returning errors: Apollo then answers 500 and
 * graphql-ws closes the socket with 4500. Reporting it as a validation error instead makes
 * it an ordinary refused document (BAD_USER_INPUT, reason GRAPHQL_VALIDATION_FAILED).
 */
const reportRefusal = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)] };

/**
 * Validation rules that refuse hostile documents before any resolver runs. The same list
 * is given to Apollo (HTTP) and to graphql-ws, which does not run Apollo's rules.
 * Token counting happens in the parser (see parseOptions), before these rules.
 */
export function limitRules(limits: Config['limits']): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...reportRefusal }),
    maxAliasesRule({ n: limits.maxAliases, ...reportRefusal }),
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true, ...reportRefusal }),
  ];
}

export function parseOptions(limits: Config['limits']) {
  return { maxTokens: limits.maxTokens };
}
