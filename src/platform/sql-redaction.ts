/**
 * SQL that reaches the logs carries no values: MikroORM inlines parameters into the statement text
 * (so a driver error's message holds the mobiles, names and codes of the request), and PostgreSQL's
 * `detail` repeats the offending value ("Key (mobile)=(13912345678) already exists").
 * Literals become `?`; the statement's shape (tables, columns, operators) stays to debug with.
 */
const STRING_LITERAL = /(?:\b[eE])?'(?:[^'\\]|''|\\.)*'/g;
const NUMBER_LITERAL = /(?<![\w$."])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g;
const KEY_VALUE = /=\((?:[^()]|\([^()]*\))*\)/g;
/** PostgreSQL quotes a rejected value after a colon: `invalid input syntax for type uuid: "1391…"`. */
const QUOTED_VALUE = /: "(?:[^"]|"")*"/g;

export function redactSql(text: string): string {
  return text.replace(STRING_LITERAL, "'?'").replace(NUMBER_LITERAL, '?').replace(KEY_VALUE, '=(?)').replace(QUOTED_VALUE, ': "?"');
}

/** The fields of a driver error that may quote values; parameter arrays are dropped whole. */
const TEXT_FIELDS = ['message', 'stack', 'detail', 'sql', 'query', 'where', 'hint', 'sqlMessage'] as const;
const VALUE_FIELDS = ['params', 'parameters', 'bindings', 'values'] as const;

export function redactErrorFields<T extends Record<string, unknown>>(serialized: T): T {
  const copy: Record<string, unknown> = { ...serialized };
  for (const field of TEXT_FIELDS) if (typeof copy[field] === 'string') copy[field] = redactSql(copy[field]);
  for (const field of VALUE_FIELDS) if (field in copy) copy[field] = '[redacted]';
  if (copy.cause && typeof copy.cause === 'object') copy.cause = redactErrorFields(copy.cause as Record<string, unknown>);
  return copy as T;
}
