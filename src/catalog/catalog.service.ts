import { LockMode } from '@mikro-orm/core';
import { lagTolerant, primary } from '../platform/db/replicas';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import { BadInputError } from '../platform/errors';
import { decodeCursor, pageSize } from '../platform/graphql/connection';
import { uniqueViolation } from '../platform/db/orm';
import { isUuid, likeEscape } from '../platform/ids';
import { CatalogItem, ItemType } from './catalog.entity';
import { REDEEMABLE_SQL, redeemableParams } from './catalog.sql';
import { DuplicateSkuError, ItemNotFoundError } from './catalog.errors';
import { MAX_STOCK, normalizeItem, type ItemFields } from './catalog.rules';
import { transact } from '../platform/db/unit-of-work';

export interface CatalogQuery {
  category?: string | null;
  type?: ItemType | null;
  minPoints?: number | null;
  maxPoints?: number | null;
  search?: string | null;
  redeemableOnly?: boolean | null;
}

/** Who is browsing: members see active items only; redeemableOnly needs a member. */
export interface Viewer {
  memberId: string | null;
  admin: boolean;
}

/** Told after an item was created, edited or restocked (committed): caches of the catalog drop what they hold. */
export type CatalogChangeListener = (itemId: string) => Promise<void> | void;

export class CatalogService {
  private readonly listeners: CatalogChangeListener[] = [];

  constructor(private readonly clock: Clock) {}

  onChange(listener: CatalogChangeListener): void {
    this.listeners.push(listener);
  }

  /** Awaited, so the edit's response is sent only once caches know (a failing listener is its own business). */
  private async changed(itemId: string): Promise<void> {
    // `async`: a listener that throws synchronously is settled like one that rejects.
    await Promise.allSettled(this.listeners.map(async (listener) => listener(itemId)));
  }

  private validated(input: ItemFields) {
    const result = normalizeItem(input);
    if ('problem' in result) throw new BadInputError(result.problem.message, result.problem.field);
    return result.fields;
  }

  async create(em: EntityManager, input: ItemFields): Promise<CatalogItem> {
    const fields = this.validated(input);
    try {
      return await transact(em.fork(), async ({ tx, afterCommit }) => {
        const now = this.clock.now();
        const item = tx.create(CatalogItem, { ...fields, hot: fields.hot ?? false, createdAt: now, updatedAt: now });
        afterCommit(() => this.changed(item.id));
        return item;
      });
    } catch (error) {
      if (uniqueViolation(error) === 'catalog_item_sku_unique') throw new DuplicateSkuError(fields.sku);
      throw error;
    }
  }

  /** A full replace (the contract's update takes a whole CatalogItemInput); stock is set as given; `hot` only when given. */
  async update(em: EntityManager, id: string, input: ItemFields): Promise<CatalogItem> {
    const fields = this.validated(input);
    try {
      return await transact(em.fork(), async ({ tx, afterCommit }) => {
        const item = isUuid(id) ? await tx.findOne(CatalogItem, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
        if (!item) throw new ItemNotFoundError(id);
        afterCommit(() => this.changed(item.id));
        // `hot` left out of an update keeps its value: an older admin tool cannot end a flash sale by accident.
        const { hot, ...replaced } = fields;
        return Object.assign(item, replaced, hot == null ? {} : { hot }, { updatedAt: this.clock.now() });
      });
    } catch (error) {
      if (uniqueViolation(error) === 'catalog_item_sku_unique') throw new DuplicateSkuError(fields.sku);
      throw error;
    }
  }

  /** Adds stock with one conditional UPDATE, so it composes with concurrent redemptions. */
  async restock(em: EntityManager, id: string, quantity: number): Promise<CatalogItem> {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_STOCK) throw new BadInputError('quantity must be a positive integer', 'quantity');
    if (!isUuid(id)) throw new ItemNotFoundError(id);
    return transact(em.fork(), async ({ tx, afterCommit }) => {
      // The same ceiling as create and update (and far from the int column's overflow, which would be a 500).
      const [row] = await tx.execute<Record<string, unknown>[]>('update catalog_item set stock = stock + ?, updated_at = ? where id = ? and stock <= ? returning *', [
        quantity,
        this.clock.now(),
        id,
        MAX_STOCK - quantity,
      ]);
      if (!row) {
        const [existing] = await tx.execute<{ stock: number }[]>('select stock from catalog_item where id = ?', [id]);
        if (!existing) throw new ItemNotFoundError(id);
        throw new BadInputError(`stock cannot exceed ${MAX_STOCK} (it is ${existing.stock})`, 'quantity');
      }
      afterCommit(() => this.changed(id));
      return em.fork().map(CatalogItem, row);
    });
  }

  async find(em: EntityManager, id: string, viewer: Viewer): Promise<CatalogItem | null> {
    if (!isUuid(id)) return null;
    const item = await em.findOne(CatalogItem, { id });
    return item && (viewer.admin || item.active || !viewer.memberId) ? item : null;
  }

  /** catalog(filter, first, after): cheapest first, then by id; totalCount over the whole filter. */
  async list(em: EntityManager, viewer: Viewer, filter: CatalogQuery | null | undefined, first: number | null | undefined, after: string | null | undefined) {
    const limit = pageSize(first);
    const now = this.clock.now();
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (!viewer.admin) clauses.push('ci.active');
    if (filter?.category) {
      clauses.push('ci.category = ?');
      params.push(filter.category);
    }
    if (filter?.type) {
      clauses.push('ci.type = ?');
      params.push(filter.type);
    }
    if (filter?.minPoints != null) {
      clauses.push('ci.points_price >= ?');
      params.push(filter.minPoints);
    }
    if (filter?.maxPoints != null) {
      clauses.push('ci.points_price <= ?');
      params.push(filter.maxPoints);
    }
    const search = filter?.search?.trim();
    if (search) {
      clauses.push(`(ci.name ilike ? or ci.description ilike ? or ? = any(ci.tags))`);
      const like = `%${likeEscape(search)}%`;
      params.push(like, like, search);
    }
    if (filter?.redeemableOnly) {
      if (!viewer.memberId) return { rows: [], limit, totalCount: 0 };
      // CatalogItem.redeemable as SQL (one definition: isRedeemable), so the filter and the page agree.
      clauses.push(REDEEMABLE_SQL);
      params.push(...redeemableParams(now, viewer.memberId));
    }
    const where = clauses.length ? `where ${clauses.join(' and ')}` : '';
    // The list may lag (a replica, docs/scaling.md), except when it depends on the viewer's own balance.
    const reader = filter?.redeemableOnly ? primary(em) : lagTolerant(em);
    const [{ count }] = await reader.execute<{ count: number }[]>(`select count(*)::int as count from catalog_item ci ${where}`, params);

    const cursor = decodeCursor(after, 2);
    const pageClauses = [...clauses];
    const pageParams = [...params];
    if (cursor) {
      if (typeof cursor[0] !== 'number' || !isUuid(String(cursor[1]))) throw new BadInputError('after is not a cursor returned by this API', 'after');
      pageClauses.push('(ci.points_price, ci.id) > (?, ?)');
      pageParams.push(cursor[0], cursor[1]);
    }
    const rows = await reader.execute<Record<string, unknown>[]>(
      `select ci.* from catalog_item ci ${pageClauses.length ? `where ${pageClauses.join(' and ')}` : ''} order by ci.points_price, ci.id limit ?`,
      [...pageParams, limit + 1],
    );
    return { rows: rows.map((row) => em.map(CatalogItem, row)), limit, totalCount: count };
  }
}
