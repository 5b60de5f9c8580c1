import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { RedisClients } from '../platform/redis';
import { BadInputError } from '../platform/errors';
import { addDays, localDate } from '../platform/time';
import { SPENDABLE_BALANCE_SQL } from '../ledger';
import { daysUntil } from '../ledger/ledger.rules';
import { AVAILABLE_TO_MEMBER_SQL } from '../catalog';
import { isAvailable } from '../catalog/catalog.rules';
import { HISTORY_LIMIT, ItemIndex, MAX_RESULTS, NEIGHBOURS_PER_ITEM, NUDGE_DAYS, finalize, rankCandidates, type MemberSignals, type ReasonCode, type RecItem } from './recommendation.rules';
import { reasonText } from './recommendation.texts';

export interface Recommended {
  itemId: string;
  score: number;
  reasonCode: ReasonCode;
  reason: string;
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
  eligible: string[];
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

  constructor(
    private readonly deps: { orm: MikroORM; redis: RedisClients; clock: Clock; log: Logger; timeZone: string },
  ) {}

  private readonly versionKey = 'recs:catalog-version';
  private memberKey = (memberId: string) => `recs:member:${memberId}`;

  /**
   * `prefetch` (optional) is told the items of a cached list before it is re-checked, so the
   * caller can load them while the check runs (one round trip instead of two in a row).
   */
  async recommend(em: EntityManager, memberId: string, firstInput: number | null | undefined, prefetch?: (itemIds: string[]) => void): Promise<Recommended[]> {
    const first = firstInput ?? 5;
    if (!Number.isInteger(first) || first < 0 || first > MAX_RESULTS) throw new BadInputError(`first must be from 0 to ${MAX_RESULTS}`, 'first');
    if (first === 0) return [];
    const now = this.deps.clock.now();
    // Two GETs at once, not one MGET: the catalog version and a member's list hash to different Redis Cluster slots.
    const { command } = this.deps.redis;
    const [version, cachedRaw] = await Promise.all([command.get(this.versionKey), command.get(this.memberKey(memberId))]).catch((error: unknown) => {
      this.deps.log.warn({ err: error }, 'recommendations cache unavailable');
      return [null, null];
    });
    const cached = cachedRaw ? (JSON.parse(cachedRaw) as CachedList) : null;
    // A list shorter than MAX_RESULTS is all there was: it answers any first.
    if (cached && cached.version === (version ?? '0') && (cached.entries.length >= first || cached.entries.length < MAX_RESULTS)) {
      const served = cached.entries.slice(0, first);
      prefetch?.(served.map((e) => e.itemId));
      const state = await this.memberState(em, memberId, now, served.map((e) => e.itemId));
      if (state && state.balance === cached.balance && state.expiring === cached.expiring && state.language === cached.language && state.eligible.length === served.length) {
        return served;
      }
    }
    const entries = await this.compute(em, memberId, now, version ?? '0');
    return entries.slice(0, first);
  }

  private async compute(em: EntityManager, memberId: string, now: Date, version: string): Promise<Recommended[]> {
    const [snapshot, state, history] = await Promise.all([
      this.currentSnapshot(version),
      this.memberState(em, memberId, now, []),
      em.execute<{ item_id: string }[]>(
        `select item_id from redemption where member_id = ? and status <> 'CANCELLED'
         group by item_id order by max(created_at) desc, item_id limit ?`,
        [memberId, HISTORY_LIMIT],
      ),
    ]);
    // A frozen (or unknown) member can redeem nothing: nothing to recommend.
    if (!state || state.status !== 'ACTIVE') return [];
    const historyIds = history.map((h) => h.item_id);
    // The ~2,000 neighbour pairs come back as ONE json value, in the order the per-row version
    // returned them (anchor by history rank, then strongest first): parsing one text with
    // JSON.parse costs a fraction of pg's per-row decoding, which dominated the uncached profile
    // (bench/README.md, recs). Same pairs, same order, so the scores add up identically.
    const neighbours = historyIds.length
      ? await this.neighboursOf(em, historyIds)
      : [];
    const redeemers = new Map<string, number>();
    for (const n of neighbours) {
      redeemers.set(n.anchor, n.anchor_members);
      redeemers.set(n.item_id, n.item_members);
    }
    const signals: MemberSignals = {
      balance: state.balance,
      expiringPoints: state.expiring,
      expiringInDays: state.earliest ? daysUntil(now, state.earliest) : null,
      history: historyIds,
      neighbours: neighbours.map((n) => ({ anchor: n.anchor, itemId: n.item_id, together: n.together })),
      redeemers,
    };
    const { index, popularity } = snapshot;
    // Window transitions happen between catalog edits: the snapshot's items are re-checked at now.
    const ranked = rankCandidates(index, popularity, signals, CANDIDATE_POOL);
    const live = await this.memberState(em, memberId, now, ranked.map((r) => index.items[r.item].id));
    const eligible = new Set(live?.eligible ?? []);
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
    return entries;
  }

  /** The strongest co-redemption neighbours of each history item, with both items' redeemer counts. */
  private async neighboursOf(em: EntityManager, historyIds: string[]): Promise<{ anchor: string; item_id: string; together: number; anchor_members: number; item_members: number }[]> {
    const [row] = await em.execute<{ pairs: string | null }[]>(
      `select json_agg(json_build_array(h.anchor, c.other_item_id, c.members, coalesce(ra.members, c.members), coalesce(ri.members, c.members))
                       order by h.rank, c.members desc, c.other_item_id desc)::text as pairs
       from jsonb_array_elements_text(?::jsonb) with ordinality as h(anchor, rank)
       cross join lateral (select other_item_id, members from rec_co_redemption where item_id = h.anchor::uuid order by members desc, other_item_id desc limit ?) c
       left join rec_item_redeemers ra on ra.item_id = h.anchor::uuid
       left join rec_item_redeemers ri on ri.item_id = c.other_item_id`,
      [JSON.stringify(historyIds), NEIGHBOURS_PER_ITEM],
    );
    const pairs = row?.pairs ? (JSON.parse(row.pairs) as [string, string, number, number, number][]) : [];
    return pairs.map(([anchor, itemId, together, anchorMembers, itemMembers]) => ({ anchor, item_id: itemId, together, anchor_members: anchorMembers, item_members: itemMembers }));
  }

  /** Spendable balance, points expiring within 30 days, and which of `itemIds` the catalog calls redeemable for the member (balance apart). */
  private async memberState(em: EntityManager, memberId: string, now: Date, itemIds: string[]): Promise<MemberState | null> {
    const [row] = await em.execute<{ status: string; language: string; balance: number; expiring: number; earliest: Date | null; eligible: string[] }[]>(
      `select m.status, m.language, ${SPENDABLE_BALANCE_SQL} as balance,
              coalesce((select sum(l.remaining) from points_lot l where l.member_id = m.id and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?), 0)::int as expiring,
              (select min(l.expires_at) from points_lot l where l.member_id = m.id and l.remaining > 0 and l.expires_at > ? and l.expires_at <= ?) as earliest,
              array(select ci.id::text from catalog_item ci where ci.id in (select jsonb_array_elements_text(?::jsonb)::uuid) and ${AVAILABLE_TO_MEMBER_SQL}) as eligible
       from member m where m.id = ?`,
      [now, now, addDays(now, NUDGE_DAYS), now, addDays(now, NUDGE_DAYS), JSON.stringify(itemIds), now, now, memberId, memberId],
    );
    return row ? { ...row, earliest: row.earliest ? new Date(row.earliest) : null } : null;
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
      em.execute<{ id: string; name: string; category: string; tags: string[]; type: string; points_price: number; stock: number; active: boolean; available_from: Date | null; available_until: Date | null }[]>(
        `select id, name, category, tags, type, points_price, stock, active, available_from, available_until from catalog_item where active order by id`,
      ),
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
    await tx.execute(
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
      [
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
      ],
    );
  }
}
