import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { RedisClients } from '../platform/redis';
import { BadInputError } from '../platform/errors';
import { preparedFromKnex, runPrepared, type PreparedStatement } from '../platform/db/prepared';
import { addDays, localDate } from '../platform/time';
import { SPENDABLE_BALANCE_SQL } from '../ledger';
import { daysUntil } from '../ledger/ledger.rules';
import { AVAILABLE_TO_MEMBER_SQL } from '../catalog';
import { isAvailable } from '../catalog/catalog.rules';
import {
  HISTORY_LIMIT,
  ItemIndex,
  MAX_RESULTS,
  NEIGHBOURS_PER_ITEM,
  NUDGE_DAYS,
  emptyNeighbours,
  finalize,
  rankCandidates,
  type MemberSignals,
  type ReasonCode,
  type RecItem,
} from './recommendation.rules';
import { reasonText } from './recommendation.texts';

/**
 * Inside every redemption's transaction (RedemptionService.recorded): a named prepared statement
 * (platform/db/prepared.ts, issue 14), bound values on the transaction's connection.
 */
const RECORD_REDEMPTION = preparedFromKnex(
  'recommendations.record_redemption',
  `with daily as (
         insert into rec_item_daily (item_id, day, redemptions) values (?, ?, 1)
         on conflict (day, item_id) do update set redemptions = rec_item_daily.redemptions + 1),
       first as (
         insert into rec_member_item (member_id, item_id, first_at) values (?, ?, ?) on conflict do nothing returning item_id),
       redeemers as (
         insert into rec_item_redeemers (item_id, members) select item_id, 1 from first
         on conflict (item_id) do update set members = rec_item_redeemers.members + 1),
       others as (
         select item_id from rec_member_item where member_id = ? and item_id <> ? and exists (select 1 from first)
         order by first_at desc, item_id limit ?)
       insert into rec_co_redemption (item_id, other_item_id, members)
       select a, b, 1 from (select ?::uuid as a, item_id as b from others union all select item_id, ?::uuid from others) p order by a, b
       on conflict (item_id, other_item_id) do update set members = rec_co_redemption.members + 1`,
);

export interface Recommended {
  itemId: string;
  score: number;
  reasonCode: ReasonCode;
  reason: string;
}

/** The catalog columns a CatalogItem shows, as the re-check statement returns them (json, camelCase). */
export interface ItemRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  type: string;
  pointsPrice: number;
  /** numeric as text: json would lose "99.50"'s last zero. */
  cashPrice: string | null;
  stock: number;
  perMemberLimit: number | null;
  availableFrom: string | null;
  availableUntil: string | null;
  imageUrl: string | null;
  active: boolean;
}

/** A served recommendation with its item's live row (read by the same statement that re-checked it). */
export interface RecommendedItem extends Recommended {
  item: ItemRow;
}

/** Cached per member: the list and what it was computed from, checked again on every read. */
interface CachedList {
  version: string;
  balance: number;
  expiring: number;
  language: string;
  entries: Recommended[];
}

interface Snapshot {
  version: string;
  loadedAt: number;
  index: ItemIndex;
  popularity: Float64Array;
}

interface MemberState {
  status: string;
  language: string;
  balance: number;
  expiring: number;
  earliest: Date | null;
  /** The asked items the catalog calls redeemable for the member (balance apart), with their rows. */
  eligible: Map<string, ItemRow>;
}

/**
 * The member's side of a list: status, language, spendable balance, points expiring within
 * NUDGE_DAYS and the earliest of them. Expects member aliased `m`; binds now (spendable), now,
 * now + 30 days (expiring), now, now + 30 days (earliest).
 */
const MEMBER_COLUMNS = `m.status, m.language, ${SPENDABLE_BALANCE_SQL} as balance,
  coalesce((select sum(l.remaining) from points_lot l where l.member_id = m.id and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?), 0)::int as expiring,
  (select min(l.expires_at) from points_lot l where l.member_id = m.id and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?) as earliest`;

/**
 * One statement for the member's side and the asked items that are still redeemable for the
 * member, with the columns a CatalogItem shows: a cache hit is this one statement, no ORM
 * hydration and no second query for the items. The items come back as one json text (one
 * JSON.parse instead of pg decoding rows). Binds: MEMBER_COLUMNS', the item ids as a json
 * array, now, now, memberId (AVAILABLE_TO_MEMBER_SQL), memberId.
 */
const MEMBER_STATE_SQL = `select ${MEMBER_COLUMNS},
  (select json_agg(json_build_object('id', ci.id, 'sku', ci.sku, 'name', ci.name, 'description', ci.description, 'category', ci.category,
          'tags', ci.tags, 'type', ci.type, 'pointsPrice', ci.points_price, 'cashPrice', ci.cash_price::text, 'stock', ci.stock,
          'perMemberLimit', ci.per_member_limit, 'availableFrom', ci.available_from, 'availableUntil', ci.available_until,
          'imageUrl', ci.image_url, 'active', ci.active))::text
   from catalog_item ci where ci.id in (select jsonb_array_elements_text(?::jsonb)::uuid) and ${AVAILABLE_TO_MEMBER_SQL}) as items
from member m where m.id = ?`;

/**
 * Everything a fresh list needs from the database but the candidates' live check, in one
 * statement: the member's side, the HISTORY_LIMIT items most recently redeemed (distinct, most
 * recent first) and the NEIGHBOURS_PER_ITEM strongest co-redemption neighbours of each (the
 * index rec_co_redemption_top_idx, one range per history item), with both items' redeemer
 * counts. The ~2,000 pairs come back as ONE text in the order the per-row version returned
 * them (anchor by history rank, then strongest first, ties by id descending), the same pairs in
 * the same order adding up to the same scores: `rank,itemId,together,anchorRedeemers,itemRedeemers`
 * joined by `;` (parsePairs). Plain text, not json_agg(json_build_array(...)): PostgreSQL built
 * the json in about twice the time (issue 11: 7-10 ms against 4-5 ms per statement on the
 * loaded bench machine), and reading it needs no JSON.parse of 2,000 small arrays. A pair names its anchor by history rank (1-based), not by id: 2,000 fewer
 * uuid strings to send, decode and parse. Binds: memberId, HISTORY_LIMIT, MEMBER_COLUMNS', NEIGHBOURS_PER_ITEM, memberId.
 */
const PROFILE_SQL = `with h as (
    select item_id, row_number() over (order by max(created_at) desc, item_id) as rank
    from redemption where member_id = ? and status <> 'CANCELLED'
    group by item_id order by max(created_at) desc, item_id limit ?)
select ${MEMBER_COLUMNS},
  (select json_agg(h.item_id order by h.rank)::text from h) as history,
  (select string_agg(concat_ws(',', h.rank, c.other_item_id, c.members, coalesce(ra.members, c.members), coalesce(ri.members, c.members)), ';'
                   order by h.rank, c.members desc, c.other_item_id desc)
   from h cross join lateral (select other_item_id, members from rec_co_redemption where item_id = h.item_id order by members desc, other_item_id desc limit ?) c
   left join rec_item_redeemers ra on ra.item_id = h.item_id
   left join rec_item_redeemers ri on ri.item_id = c.other_item_id) as pairs
from member m where m.id = ?`;

/**
 * Both reads as named prepared statements (issue 11): through knex each call sent ~2 KB of SQL
 * with the values inlined, which PostgreSQL parsed and planned again; prepared, a connection
 * plans each once and the driver binds the values. The `?` texts stay for a caller inside a
 * transaction (a prepared read runs on its own pooled connection).
 */
const MEMBER_STATE = preparedFromKnex('recs_member_state_v1', MEMBER_STATE_SQL);
const PROFILE = preparedFromKnex('recs_profile_v2', PROFILE_SQL);

/** `statement` prepared outside a unit of work, through the ORM (same text, `?` placeholders) inside one. */
function read<T>(em: EntityManager, statement: PreparedStatement, knexText: string, values: unknown[]): Promise<T[]> {
  return em.isInTransaction() ? em.execute<T[]>(knexText, values) : runPrepared<T>(em, statement, values);
}

/**
 * Reads PROFILE_SQL's pairs text (`rank,itemId,together,anchorRedeemers,itemRedeemers;…`, every
 * field but the uuid a non-negative integer) in order, without splitting it into 10,000 strings.
 */
function parsePairs(text: string, pair: (rank: number, itemId: string, together: number, anchorMembers: number, itemMembers: number) => void): void {
  let at = 0;
  const int = (end: number): number => {
    let value = 0;
    for (; at < end; at++) value = value * 10 + (text.charCodeAt(at) - 48);
    at = end + 1;
    return value;
  };
  while (at < text.length) {
    const rank = int(text.indexOf(',', at));
    const idEnd = text.indexOf(',', at);
    const itemId = text.slice(at, idEnd);
    at = idEnd + 1;
    const together = int(text.indexOf(',', at));
    const anchorMembers = int(text.indexOf(',', at));
    const end = text.indexOf(';', at);
    const itemMembers = int(end < 0 ? text.length : end);
    pair(rank, itemId, together, anchorMembers, itemMembers);
  }
}

const CACHE_TTL_S = 600;
/** Popularity (others' redemptions) may lag this much; the member's own moves never do. */
const POPULARITY_REFRESH_MS = 5 * 60_000;
/** Candidates checked live per round: the served list keeps what passes. */
const CANDIDATE_POOL = 60;
const POPULAR_DAYS = 7;

/**
 * recommendations(first): ranks the catalog for one member with the pure rules, checks the best
 * candidates live against the catalog's own eligibility SQL, and caches the list in Redis
 * (shared by instances). A cached list is dropped on the member's ledger moves (redemptions,
 * balance changes), on stock-outs and catalog edits (global version), and is re-checked on
 * read (balance, expiring points, every item still eligible), so it is never served stale.
 */
export class RecommendationService {
  private snapshot: Snapshot | null = null;
  private loading: Promise<Snapshot> | null = null;

  constructor(private readonly deps: { orm: MikroORM; redis: RedisClients; clock: Clock; log: Logger; timeZone: string }) {}

  private readonly versionKey = 'recs:catalog-version';
  private memberKey = (memberId: string) => `recs:member:${memberId}`;

  async recommend(em: EntityManager, memberId: string, firstInput: number | null | undefined): Promise<RecommendedItem[]> {
    const first = firstInput ?? 5;
    if (!Number.isInteger(first) || first < 0 || first > MAX_RESULTS) throw new BadInputError(`first must be from 0 to ${MAX_RESULTS}`, 'first');
    if (first === 0) return [];
    const now = this.deps.clock.now();
    const [version, cachedRaw] = await this.readCache(memberId);
    const cached = cachedRaw ? (JSON.parse(cachedRaw) as CachedList) : null;
    // A list shorter than MAX_RESULTS is all there was: it answers any first.
    if (cached && cached.version === version && (cached.entries.length >= first || cached.entries.length < MAX_RESULTS)) {
      const served = cached.entries.slice(0, first);
      const state = await this.memberState(
        em,
        memberId,
        now,
        served.map((e) => e.itemId),
      );
      if (state && state.status === 'ACTIVE' && state.balance === cached.balance && state.expiring === cached.expiring && state.language === cached.language && state.eligible.size === served.length) {
        return served.map((e) => ({ ...e, item: state.eligible.get(e.itemId)! }));
      }
    }
    const entries = await this.compute(em, memberId, now, version);
    return entries.slice(0, first);
  }

  /**
   * The catalog version and the member's cached list in one round trip: one MGET on a single
   * Redis; on a Cluster the two keys hash to different slots, so two GETs sent together.
   */
  private async readCache(memberId: string): Promise<[string, string | null]> {
    const { command } = this.deps.redis;
    const keys = [this.versionKey, this.memberKey(memberId)];
    try {
      const [version, list] = command.isCluster ? await Promise.all(keys.map((k) => command.get(k))) : await command.mget(keys);
      return [version ?? '0', list ?? null];
    } catch (error) {
      this.deps.log.warn({ err: error }, 'recommendations cache unavailable');
      return ['0', null];
    }
  }

  private async compute(em: EntityManager, memberId: string, now: Date, version: string): Promise<RecommendedItem[]> {
    const soon = addDays(now, NUDGE_DAYS);
    const [snapshot, [profile]] = await Promise.all([
      this.currentSnapshot(version),
      read<{ status: string; language: string; balance: number; expiring: number; earliest: Date | string | null; history: string | null; pairs: string | null }>(em, PROFILE, PROFILE_SQL, [
        memberId,
        HISTORY_LIMIT,
        now,
        now,
        soon,
        now,
        soon,
        NEIGHBOURS_PER_ITEM,
        memberId,
      ]),
    ]);
    // A frozen (or unknown) member can redeem nothing: nothing to recommend.
    if (!profile || profile.status !== 'ACTIVE') return [];
    const state = { language: profile.language, balance: profile.balance, expiring: profile.expiring, earliest: profile.earliest ? new Date(profile.earliest) : null };
    const historyIds = profile.history ? (JSON.parse(profile.history) as string[]) : [];
    const { index, popularity } = snapshot;
    // The pairs by index position, each id looked up once. An item's redeemer count is the last
    // one read for it (what a Map by id kept), so the figures are the string path's.
    const historyAt = historyIds.map((id) => index.position.get(id) ?? -1);
    const resolved = emptyNeighbours(HISTORY_LIMIT * NEIGHBOURS_PER_ITEM);
    const redeemersAt = new Map<number, number>();
    parsePairs(profile.pairs ?? '', (rank, itemId, together, anchorMembers, itemMembers) => {
      if (resolved.length === resolved.anchor.length) return;
      const k = resolved.length++;
      const a = historyAt[rank - 1];
      const c = index.position.get(itemId) ?? -1;
      resolved.anchor[k] = a;
      resolved.item[k] = c;
      resolved.together[k] = together;
      redeemersAt.set(a, anchorMembers);
      redeemersAt.set(c, itemMembers);
    });
    for (let k = 0; k < resolved.length; k++) {
      resolved.anchorRedeemers[k] = redeemersAt.get(resolved.anchor[k])!;
      resolved.itemRedeemers[k] = redeemersAt.get(resolved.item[k])!;
    }
    const signals: MemberSignals = {
      balance: state.balance,
      expiringPoints: state.expiring,
      expiringInDays: state.earliest ? daysUntil(now, state.earliest) : null,
      history: historyIds,
      neighbours: [],
      redeemers: new Map(),
      resolved,
    };
    // Window transitions happen between catalog edits: the snapshot's items are re-checked at now.
    const ranked = rankCandidates(index, popularity, signals, CANDIDATE_POOL);
    const live = await this.memberState(
      em,
      memberId,
      now,
      ranked.map((r) => index.items[r.item].id),
    );
    const eligible = live?.eligible ?? new Map<string, ItemRow>();
    const served = finalize(ranked, (i) => eligible.has(index.items[i].id), MAX_RESULTS);
    const entries = served.map((r): Recommended => {
      const item = index.items[r.item];
      return {
        itemId: item.id,
        score: Math.round(r.score * 10_000) / 10_000,
        reasonCode: r.reasonCode,
        reason: reasonText(
          {
            code: r.reasonCode,
            anchorName: r.anchor == null ? null : index.items[r.anchor].name,
            expiringPoints: state.expiring,
            expiringInDays: signals.expiringInDays,
            shortBy: Math.max(0, item.pointsPrice - state.balance),
          },
          state.language,
        ),
      };
    });
    const cached: CachedList = { version, balance: state.balance, expiring: state.expiring, language: state.language, entries };
    await this.deps.redis.command.set(this.memberKey(memberId), JSON.stringify(cached), 'EX', CACHE_TTL_S).catch(() => undefined);
    return entries.map((e) => ({ ...e, item: eligible.get(e.itemId)! }));
  }

  /** Spendable balance, points expiring within 30 days, and which of `itemIds` the catalog calls redeemable for the member (balance apart), with their rows. */
  private async memberState(em: EntityManager, memberId: string, now: Date, itemIds: string[]): Promise<MemberState | null> {
    const soon = addDays(now, NUDGE_DAYS);
    const [row] = await read<{ status: string; language: string; balance: number; expiring: number; earliest: Date | string | null; items: string | null }>(em, MEMBER_STATE, MEMBER_STATE_SQL, [
      now,
      now,
      soon,
      now,
      soon,
      JSON.stringify(itemIds),
      now,
      now,
      memberId,
      memberId,
    ]);
    if (!row) return null;
    const items = row.items ? (JSON.parse(row.items) as ItemRow[]) : [];
    return {
      status: row.status,
      language: row.language,
      balance: row.balance,
      expiring: row.expiring,
      earliest: row.earliest ? new Date(row.earliest) : null,
      eligible: new Map(items.map((item) => [item.id, item])),
    };
  }

  /** The catalog's content index and 7-day popularity, rebuilt when the catalog version moves. */
  private async currentSnapshot(version: string): Promise<Snapshot> {
    const fresh = this.snapshot && this.snapshot.version === version && this.deps.clock.now().getTime() - this.snapshot.loadedAt < POPULARITY_REFRESH_MS;
    if (fresh) return this.snapshot!;
    this.loading ??= this.loadSnapshot(version).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async loadSnapshot(version: string): Promise<Snapshot> {
    const em = this.deps.orm.em.fork();
    const now = this.deps.clock.now();
    const since = localDate(addDays(now, -POPULAR_DAYS), this.deps.timeZone);
    const [rows, popular] = await Promise.all([
      em.execute<
        { id: string; name: string; category: string; tags: string[]; type: string; points_price: number; stock: number; active: boolean; available_from: Date | null; available_until: Date | null }[]
      >(`select id, name, category, tags, type, points_price, stock, active, available_from, available_until from catalog_item where active order by id`),
      em.execute<{ item_id: string; n: number }[]>('select item_id, sum(redemptions)::int as n from rec_item_daily where day > ? group by item_id', [since]),
    ]);
    const items: RecItem[] = rows.map((r) => ({
      id: r.id,
      name: r.name,
      category: r.category,
      tags: r.tags,
      type: r.type,
      pointsPrice: r.points_price,
      offered: r.stock >= 1 && isAvailable({ active: r.active, availableFrom: r.available_from && new Date(r.available_from), availableUntil: r.available_until && new Date(r.available_until) }, now),
    }));
    const index = new ItemIndex(items);
    const popularity = new Float64Array(items.length);
    for (const p of popular) {
      const i = index.position.get(p.item_id);
      if (i !== undefined) popularity[i] = p.n;
    }
    this.snapshot = { version, loadedAt: now.getTime(), index, popularity };
    return this.snapshot;
  }

  /** The member's balance or history moved: its list is recomputed on the next read. */
  memberChanged(memberId: string): Promise<unknown> {
    return this.deps.redis.command.del(this.memberKey(memberId)).catch(() => undefined);
  }

  /**
   * The members of one commit (a job's batch: thousands) changed: one DEL of all their lists, one
   * round trip instead of one per member. On a cluster the keys live in different slots, which one
   * command may not span, so each is deleted on its own there.
   */
  membersChanged(memberIds: string[]): Promise<unknown> {
    if (memberIds.length === 0) return Promise.resolve();
    if (this.deps.redis.sharded) return Promise.all(memberIds.map((id) => this.memberChanged(id)));
    return this.deps.redis.command.del(...memberIds.map(this.memberKey)).catch(() => undefined);
  }

  /** A catalog edit or a stock-out: every cached list and every instance's snapshot is out of date. */
  catalogChanged(): Promise<unknown> {
    return this.deps.redis.command.incr(this.versionKey).catch((error: unknown) => this.deps.log.warn({ err: error }, 'recommendations version bump failed'));
  }

  /**
   * Inside a redemption's transaction (the member's row is locked, so one member's redemptions
   * are counted one at a time): the item's daily count and, the first time this member redeems
   * this item, the redeemer count and one more co-redemption for every item the member was
   * counted for before (the most recent 100), so each pair is counted exactly once.
   */
  async recordRedemption(tx: EntityManager, redemption: { memberId: string; itemId: string; createdAt: Date }): Promise<void> {
    // One statement, not four (issue 14: it runs under the redemption's locks, a hot item's daily
    // row included). The member's first redemption of the item (`first` returns a row) also counts
    // a redeemer and pairs the item with the member's recent ones, both directions of each pair in
    // key order so concurrent redemptions lock rows in one order. `others` reads the statement's
    // snapshot, which never holds the row `first` inserts (and skips this item anyway).
    await runPrepared(tx, RECORD_REDEMPTION, [
      redemption.itemId,
      localDate(redemption.createdAt, this.deps.timeZone),
      redemption.memberId,
      redemption.itemId,
      redemption.createdAt,
      redemption.memberId,
      redemption.itemId,
      HISTORY_LIMIT * 2,
      redemption.itemId,
      redemption.itemId,
    ]);
  }
}
