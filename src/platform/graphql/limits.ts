import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import type { ValidationRule } from 'graphql';
import type { Config } from '../config';

/**
 * Validation rules that refuse hostile documents before any resolver runs. The same list
 * is given to Apollo (HTTP) and to graphql-ws, which does not run Apollo's rules.
 * Token counting happens in the parser (see parseOptions), before these rules.
 */
export function limitRules(limits: Config['limits']): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesRule({ n: limits.maxAliases }),
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true }),
  ] as unknown as ValidationRule[];
}

export function parseOptions(limits: Config['limits']) {
  return { maxTokens: limits.maxTokens };
}
