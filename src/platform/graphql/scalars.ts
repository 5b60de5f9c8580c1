import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { Decimal } from 'decimal.js';
import { GraphQLJSON } from 'graphql-scalars';

export { Decimal };

const invalid = (scalar: string, message: string) => new GraphQLError(`${scalar}: ${message}`, { extensions: { code: 'BAD_USER_INPUT' } });

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_8601.test(value)) {
    throw invalid('DateTime', 'expected an ISO-8601 date-time with a time zone, e.g. 2026-01-31T16:00:00Z');
  }
  const date = new Date(value);
  // Date rolls impossible dates over (2026-02-30 becomes March 2nd) and accepts hour 24: refuse both.
  const [year, month, day, hour] = value.split(/[-T:]/).map(Number);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (Number.isNaN(date.getTime()) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || hour > 23) {
    throw invalid('DateTime', `not a real instant: ${value}`);
  }
  return date;
}

/** ISO-8601 in UTC on the way out; any ISO-8601 instant with a zone on the way in. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant, as an ISO-8601 string in UTC (2026-01-31T16:00:00.000Z).',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING) throw invalid('DateTime', 'expected a string');
    return parseDateTime(ast.value);
  },
});

const DECIMAL = /^-?\d{1,18}(\.\d{1,6})?$/;

function parseDecimal(value: unknown): Decimal {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text.trim())) {
    throw invalid('Decimal', `expected a decimal number as a string, such as "99.50"; got ${JSON.stringify(value)}`);
  }
  return new Decimal(text.trim());
}

/** Exact decimal money as a string ("99.50"): never a float on the wire or in arithmetic. */
export const DecimalScalar = new GraphQLScalarType<Decimal, string>({
  name: 'Decimal',
  description: 'An exact decimal number as a string, such as "99.50".',
  serialize(value) {
    const d = value instanceof Decimal ? value : new Decimal(value as string);
    return d.decimalPlaces() < 2 ? d.toFixed(2) : d.toFixed();
  },
  parseValue: parseDecimal,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING && ast.kind !== Kind.INT && ast.kind !== Kind.FLOAT) {
      throw invalid('Decimal', 'expected a string such as "99.50"');
    }
    return parseDecimal(ast.value);
  },
});

const INTEGER = /^-?\d{1,30}$/;

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value);
  throw invalid('BigInt', `expected an integer as a string of digits; got ${JSON.stringify(value)}`);
}

/** Always serialized as a string of digits, whatever its size, so clients parse it one way. */
export const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: 'BigInt',
  description: 'An integer of any size, always serialized as a string of digits ("12345678901234").',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value).toString();
    if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value).toString();
    throw new GraphQLError(`BigInt cannot represent ${String(value)}`);
  },
  parseValue: parseBigInt,
  parseLiteral(ast: ValueNode) {
    if (ast.kind !== Kind.STRING && ast.kind !== Kind.INT) throw invalid('BigInt', 'expected a string of digits');
    return parseBigInt(ast.value);
  },
});

export const JSONScalar = GraphQLJSON;

export const scalarsMap = [
  { type: Date, scalar: DateTimeScalar },
  { type: Decimal, scalar: DecimalScalar },
  { type: BigInt, scalar: BigIntScalar },
];
