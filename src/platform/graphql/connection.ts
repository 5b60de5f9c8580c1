import { ClassType, Field, Int, ObjectType } from 'type-graphql';
import { BadInputError } from '../errors';
import { isUuid } from '../ids';

export const MAX_PAGE_SIZE = 100;

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}
export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/** Builds the contract's `XEdge` and `XConnection` types for a node type. */
export function connectionTypes<T extends object>(name: string, node: ClassType<T>, options: { totalCount?: boolean } = {}) {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field(() => String)
    cursor!: string;
    @Field(() => node)
    node!: T;
  }

  if (options.totalCount) {
    @ObjectType(`${name}Connection`)
    class CountedConnection {
      @Field(() => [EdgeType])
      edges!: EdgeType[];
      @Field(() => PageInfo)
      pageInfo!: PageInfo;
      @Field(() => Int)
      totalCount!: number;
    }
    return { Edge: EdgeType, Connection: CountedConnection };
  }
  @ObjectType(`${name}Connection`)
  class PlainConnection {
    @Field(() => [EdgeType])
    edges!: EdgeType[];
    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return { Edge: EdgeType, Connection: PlainConnection };
}

/** `first` is clamped to 1..MAX_PAGE_SIZE; a negative one is a client bug. */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  if (first == null) return fallback;
  if (!Number.isInteger(first) || first < 0) throw new BadInputError('first must be a non-negative integer', 'first');
  return Math.min(first, MAX_PAGE_SIZE);
}

/** Cursors are opaque to clients: base64url of the sort key of the last row. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, arity: number): (string | number)[] | null {
  if (cursor == null) return null;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) {
      return key;
    }
  } catch {
    // fall through: any undecodable cursor is the same client error
  }
  throw new BadInputError('after is not a cursor returned by this API', 'after');
}

/**
 * The keyset of newest-first lists: (time, id) of the last row seen, for `(t, id) < (?, ?)`.
 * Anything else is BAD_USER_INPUT naming `after` (never a SQL error on a bad timestamp or id).
 */
export function decodeTimeIdCursor(after: string | null | undefined, validId: (id: string) => boolean = isUuid): { at: Date; id: string } | null {
  const cursor = decodeCursor(after, 2);
  if (!cursor) return null;
  const [at, id] = [new Date(String(cursor[0])), String(cursor[1])];
  if (Number.isNaN(at.getTime()) || !validId(id)) throw new BadInputError('after is not a cursor returned by this API', 'after');
  return { at, id };
}

/** Turns `limit + 1` fetched rows into a page: the extra row only tells whether there is a next page. */
export function toConnection<R, T>(rows: R[], limit: number, keyOf: (row: R) => (string | number)[], map: (row: R) => T) {
  const page = rows.slice(0, limit);
  const edges = page.map((row) => ({ cursor: encodeCursor(keyOf(row)), node: map(row) }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
  };
}
