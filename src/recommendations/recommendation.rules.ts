/**
 * Pure scoring of recommendations, shared by the service (one member, live data) and the
 * offline evaluation (`npm run eval:recs`, 50,000 synthetic members in memory): what is
 * measured offline is exactly what is served.
 *
 * score = (0.6 · collaborative + 0.4 · content + 0.1 · popularity) × fit × repeat + nudge
 * (seed 000's 0.6/0.4 split), with
 * - collaborative: Σ over the member's recent items h of cosine(h, c) = together / √(n_h · n_c),
 *   damped for small counts; the √ norms keep best-sellers from swamping every list;
 * - content: cosine between c and each history item on category, tags, type and price band,
 *   IDF-weighted (a tag every item has says nothing); computed through an inverted index built
 *   once per catalog version;
 * - fit: 1 for what the balance covers, FIT_SOON for items up to 1.5× the balance ("soon"),
 *   nothing beyond; an unaffordable item never leads (finalize);
 * - nudge: items that would use the points expiring within 30 days, more as the date nears.
 * Both signals are max-normalised over the candidates so their weights mean what they say.
 */

export type ReasonCode = 'SIMILAR_TO_HISTORY' | 'POPULAR_WITH_SIMILAR_MEMBERS' | 'USES_EXPIRING_POINTS' | 'FITS_BALANCE' | 'POPULAR';

export const WEIGHT_COLLABORATIVE = 0.6;
export const WEIGHT_CONTENT = 0.4;
/** A little popularity breaks ties among equally similar items and backs off thin histories. */
export const WEIGHT_POPULARITY = 0.1;
export const NUDGE_WEIGHT = 0.25;
export const NUDGE_DAYS = 30;
/** Affordable "soon": up to this multiple of the balance, scored down by FIT_SOON. */
export const SOON_SHARE = 1.5;
export const FIT_SOON = 0.5;
/** Something already redeemed is still a candidate (coffee is bought again) but new items that fit as well come first. */
export const REPEAT_FACTOR = 0.35;
/** Most recent history items that shape the profile, and their recency decay. */
export const HISTORY_LIMIT = 50;
const RECENCY_DECAY = 0.93;
/** Co-counts below this are damped (cosine × n / (n + shrink)): two coincidences are not a pattern. */
const CO_SHRINK = 3;
/** Below this share of the score, no signal explains the item: it is offered because it fits the balance. */
const REASON_FLOOR = 0.05;
/** At most this many results carry the expiring-points reason, so the list still explains itself. */
const NUDGE_REASON_SLOTS = 2;
export const MAX_RESULTS = 20;
/** Co-redemption neighbours read per history item (strongest first, ties by id descending). */
export const NEIGHBOURS_PER_ITEM = 40;

const FEATURE_WEIGHTS = { category: 1, tag: 0.5, type: 0.3, band: 0.6 };

export interface RecItem {
  id: string;
  name: string;
  category: string;
  tags: readonly string[];
  type: string;
  pointsPrice: number;
  /** Active, in window and in stock as far as this snapshot knows (the live check comes later). */
  offered: boolean;
}

/**
 * An item's price band, a content feature (`b:<band>`), so that "coffee money" and "headphone
 * money" differ. round(log2(points)): each band spans a factor of two, centred on a power of two
 * rather than starting at one. Band n holds the prices from 2^(n - 0.5) up to 2^(n + 0.5), in whole
 * points: 0-1 → 0, 2 → 1, 3-5 → 2, 6-11 → 3, ..., 46-90 → 6, 91-181 → 7, 182-362 → 8, 363-724 → 9,
 * 725-1448 → 10 (no whole price sits on an edge: 2^(n + 0.5) is irrational). So 100 and 199 points
 * are different bands (7, 8), 100 and 181 the same one.
 * Why that is fine: the feature only asks whether two items share a band, and any split into
 * factor-of-two bands groups prices within about 2x of each other, whichever power the edges sit
 * at. Moving the edges to 100-199, 200-399, ... would regroup items and change the recommendation
 * evaluation's figures, which were measured with these bands. The edges of bands 1-14 are a table
 * test in test/recommendations/rules.test.ts.
 */
export function priceBand(points: number): number {
  return Math.round(Math.log2(Math.max(points, 1)));
}

/**
 * The catalog's content side, precomputed when the catalog changes: each item's unit-length
 * feature vector and, per feature, the items that have it (to score all items against a
 * profile by touching only items that share something with it).
 */
export class ItemIndex {
  readonly position = new Map<string, number>();
  private readonly vectors: { feature: number; weight: number }[][] = [];
  private readonly postings: { items: number[]; weights: number[] }[] = [];

  readonly items: readonly RecItem[];
  /** Each item's price and offered flag, aligned with items: the per-request pass over the whole catalog reads these flat arrays, not 10,000 objects. */
  readonly prices: Float64Array;
  readonly offered: Uint8Array;

  /** Items are kept in id order: equal scores then rank by id, the same on every instance. */
  constructor(items: readonly RecItem[]) {
    this.items = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    items = this.items;
    this.prices = Float64Array.from(items, (item) => item.pointsPrice);
    this.offered = Uint8Array.from(items, (item) => (item.offered ? 1 : 0));
    const featureIds = new Map<string, number>();
    const raw = items.map((item, i) => {
      this.position.set(item.id, i);
      const features: [string, number][] = [
        [`c:${item.category}`, FEATURE_WEIGHTS.category],
        [`t:${item.type}`, FEATURE_WEIGHTS.type],
        [`b:${priceBand(item.pointsPrice)}`, FEATURE_WEIGHTS.band],
        ...[...new Set(item.tags)].map((tag): [string, number] => [`g:${tag}`, FEATURE_WEIGHTS.tag]),
      ];
      return features.map(([key, weight]) => {
        let id = featureIds.get(key);
        if (id === undefined) {
          id = featureIds.size;
          featureIds.set(key, id);
          this.postings.push({ items: [], weights: [] });
        }
        return { feature: id, weight };
      });
    });
    const documentFrequency = this.postings.map(() => 0);
    for (const features of raw) for (const f of features) documentFrequency[f.feature]++;
    const n = Math.max(items.length, 1);
    raw.forEach((features, i) => {
      const weighted = features.map((f) => ({ feature: f.feature, weight: f.weight * Math.log(1 + n / documentFrequency[f.feature]) }));
      const norm = Math.sqrt(weighted.reduce((sum, f) => sum + f.weight * f.weight, 0)) || 1;
      const unit = weighted.map((f) => ({ feature: f.feature, weight: f.weight / norm }));
      this.vectors.push(unit);
      for (const f of unit) {
        this.postings[f.feature].items.push(i);
        this.postings[f.feature].weights.push(f.weight);
      }
    });
  }

  /** Content cosine of two items (both unit vectors). */
  similarity(a: number, b: number): number {
    let sum = 0;
    for (const fa of this.vectors[a]) for (const fb of this.vectors[b]) if (fa.feature === fb.feature) sum += fa.weight * fb.weight;
    return sum;
  }

  /**
   * The history item most like `item` by content: similarity(h, item) for every h, with `item`'s
   * features spread once into a feature-indexed array instead of a features × features loop per
   * pair (60 candidates × 50 history items were a third of the uncached request's own CPU). Same
   * products summed in the same order (h's features), so the same figures as similarity().
   */
  mostSimilar(item: number, history: readonly number[]): { best: number | null; similarity: number } {
    const dense = (this.denseScratch ??= new Float64Array(this.postings.length));
    const features = this.vectors[item];
    for (const f of features) dense[f.feature] = f.weight;
    let best: number | null = null;
    let bestSimilarity = 0;
    for (const h of history) {
      if (h === item) continue;
      let sum = 0;
      for (const f of this.vectors[h]) {
        const w = dense[f.feature];
        if (w !== 0) sum += f.weight * w;
      }
      if (sum > bestSimilarity) [best, bestSimilarity] = [h, sum];
    }
    for (const f of features) dense[f.feature] = 0;
    return { best, similarity: bestSimilarity };
  }
  private denseScratch: Float64Array | null = null;

  /** Σ_h w_h · cosine(h, c) for every item c, in one pass over the profile's postings. */
  contentScores(profile: { item: number; weight: number }[], into: Float64Array): void {
    const merged = new Map<number, number>();
    for (const { item, weight } of profile) for (const f of this.vectors[item]) merged.set(f.feature, (merged.get(f.feature) ?? 0) + weight * f.weight);
    for (const [feature, weight] of merged) {
      const posting = this.postings[feature];
      for (let k = 0; k < posting.items.length; k++) into[posting.items[k]] += weight * posting.weights[k];
    }
  }
}

/** What the service (or the evaluation) knows about one member at one moment. */
export interface MemberSignals {
  /** Spendable points now. */
  balance: number;
  /** Points expiring within NUDGE_DAYS, and days until the earliest of them (null: none). */
  expiringPoints: number;
  expiringInDays: number | null;
  /** Distinct items redeemed, most recent first (at most HISTORY_LIMIT are used). */
  history: readonly string[];
  /** Strongest co-redemption neighbours of history items: `together` distinct members redeemed both. */
  neighbours: readonly { anchor: string; itemId: string; together: number }[];
  /** Distinct redeemers per item (anchors and neighbours at least). */
  redeemers: ReadonlyMap<string, number>;
  /** neighbours and redeemers already resolved to index positions; when given, used instead of them. */
  resolved?: ResolvedNeighbours;
}

/**
 * The co-redemption pairs by index position, one entry per pair in `neighbours` order (-1: not
 * in the index), with both items' redeemer counts. The service fills it while reading the pairs
 * (one id lookup per pair); resolving ids here costs four string-keyed Map operations per pair,
 * ~8,000 per uncached request (issue 11).
 */
export interface ResolvedNeighbours {
  length: number;
  anchor: Int32Array;
  item: Int32Array;
  together: Float64Array;
  anchorRedeemers: Float64Array;
  itemRedeemers: Float64Array;
}

export function emptyNeighbours(capacity: number): ResolvedNeighbours {
  return {
    length: 0,
    anchor: new Int32Array(capacity),
    item: new Int32Array(capacity),
    together: new Float64Array(capacity),
    anchorRedeemers: new Float64Array(capacity),
    itemRedeemers: new Float64Array(capacity),
  };
}

/** The string-keyed signals as positions (the evaluation's path): a missing redeemer count falls back to `together`. */
function resolveNeighbours(index: ItemIndex, signals: MemberSignals): ResolvedNeighbours {
  const resolved = emptyNeighbours(signals.neighbours.length);
  for (const { anchor, itemId, together } of signals.neighbours) {
    const k = resolved.length++;
    resolved.anchor[k] = index.position.get(anchor) ?? -1;
    resolved.item[k] = index.position.get(itemId) ?? -1;
    resolved.together[k] = together;
    resolved.anchorRedeemers[k] = signals.redeemers.get(anchor) ?? together;
    resolved.itemRedeemers[k] = signals.redeemers.get(itemId) ?? together;
  }
  return resolved;
}

export interface Ranked {
  item: number;
  score: number;
  reasonCode: ReasonCode;
  /** The history item that explains a SIMILAR_TO_HISTORY or POPULAR_WITH_SIMILAR_MEMBERS reason. */
  anchor: number | null;
  affordable: boolean;
}

function maxOf(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/**
 * The per-item working arrays of rankCandidates, reused from call to call and cleared each time:
 * five fresh 10,000-entry typed arrays per uncached request were a good part of the GC time in
 * the recs bench's profile. rankCandidates is synchronous and returns nothing that points into
 * them, so one set per catalog size is safe.
 */
const scratch = new Map<number, { recency: Float64Array; content: Float64Array; collaborative: Float64Array; anchorOf: Int32Array; anchorWeight: Float64Array }>();
function scratchFor(n: number) {
  let arrays = scratch.get(n);
  if (!arrays) {
    if (scratch.size > 4) scratch.clear();
    arrays = { recency: new Float64Array(n), content: new Float64Array(n), collaborative: new Float64Array(n), anchorOf: new Int32Array(n), anchorWeight: new Float64Array(n) };
    scratch.set(n, arrays);
  }
  arrays.recency.fill(0);
  arrays.content.fill(0);
  arrays.collaborative.fill(0);
  arrays.anchorOf.fill(-1);
  arrays.anchorWeight.fill(0);
  return arrays;
}

/**
 * log1p of each item's 7-day count and the scale (log1p of the largest), once per popularity
 * array: the service's array lives as long as its catalog snapshot, so 10,000 log1p calls and a
 * max pass per request become one per snapshot (issue 11). Keyed by the array itself, so a new
 * snapshot (or the evaluation's array) gets its own; values as rankCandidates computed them inline.
 */
const popularityMemo = new WeakMap<object, { logPopularity: Float64Array; popularityScale: number }>();
function popularityTerms(popularity: ArrayLike<number>, n: number): { logPopularity: Float64Array; popularityScale: number } {
  const known = popularityMemo.get(popularity);
  if (known && known.logPopularity.length === n) return known;
  let popularityMax = 0;
  const logPopularity = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    popularityMax = Math.max(popularityMax, popularity[i]);
    logPopularity[i] = Math.log1p(popularity[i]);
  }
  const terms = { logPopularity, popularityScale: Math.log1p(popularityMax) || 1 };
  popularityMemo.set(popularity, terms);
  return terms;
}

/**
 * Scores every offered item for one member and returns the best `limit` (ties by item id, so
 * the same data gives the same list). `popularity` is aligned with index.items (7-day counts)
 * and read as a snapshot: its log terms are memoised per array, so it must not change once ranked with.
 * One pass over the catalog with no allocation per item and a bounded top-`limit` insert: a
 * 10,000-item catalog costs about a millisecond.
 */
export function rankCandidates(index: ItemIndex, popularity: ArrayLike<number>, signals: MemberSignals, limit: number): Ranked[] {
  const n = index.items.length;
  const { recency, content, collaborative, anchorOf, anchorWeight } = scratchFor(n);
  const history = signals.history
    .slice(0, HISTORY_LIMIT)
    .map((id) => index.position.get(id))
    .filter((i): i is number => i !== undefined);
  let totalRecency = 0;
  history.forEach((item, rank) => {
    recency[item] = RECENCY_DECAY ** rank;
    totalRecency += recency[item];
  });
  totalRecency ||= 1;

  index.contentScores(
    history.map((item) => ({ item, weight: recency[item] / totalRecency })),
    content,
  );

  // The history item that contributed most to each candidate's collaborative score (its reason).
  const pairs = signals.resolved ?? resolveNeighbours(index, signals);
  for (let k = 0; k < pairs.length; k++) {
    const a = pairs.anchor[k];
    const c = pairs.item[k];
    const together = pairs.together[k];
    if (a < 0 || c < 0 || a === c || recency[a] === 0) continue;
    const norm = Math.sqrt(pairs.anchorRedeemers[k] * pairs.itemRedeemers[k]) || 1;
    const contribution = (recency[a] / totalRecency) * (together / norm) * (together / (together + CO_SHRINK));
    collaborative[c] += contribution;
    if (contribution > anchorWeight[c]) [anchorOf[c], anchorWeight[c]] = [a, contribution];
  }

  const { logPopularity, popularityScale } = popularityTerms(popularity, n);
  const contentScale = WEIGHT_CONTENT / (maxOf(content) || 1);
  const collaborativeScale = WEIGHT_COLLABORATIVE / (maxOf(collaborative) || 1);
  const coldStart = history.length === 0;
  const popularityWeight = coldStart ? 1 : WEIGHT_POPULARITY;
  const urgency = signals.expiringInDays == null ? 0 : 1 - (0.5 * Math.min(Math.max(signals.expiringInDays, 0), NUDGE_DAYS)) / NUDGE_DAYS;
  const nudgeScale = signals.expiringPoints > 0 ? (NUDGE_WEIGHT * urgency) / signals.expiringPoints : 0;

  // Best `limit` so far, best first; items come in id order, so an equal score never displaces.
  const top: { item: number; score: number }[] = [];
  const { prices, offered } = index;
  for (let i = 0; i < n; i++) {
    if (offered[i] === 0) continue;
    const price = prices[i];
    const fit = price <= signals.balance ? 1 : price <= signals.balance * SOON_SHARE ? FIT_SOON : 0;
    if (fit === 0) continue;
    const base = collaborative[i] * collaborativeScale + content[i] * contentScale + (popularityWeight * logPopularity[i]) / popularityScale;
    const nudge = fit === 1 ? Math.min(price, signals.expiringPoints) * nudgeScale : 0;
    const score = base * fit * (recency[i] > 0 ? REPEAT_FACTOR : 1) + nudge;
    if (top.length === limit && score <= top[limit - 1].score) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].score < score) at--;
    top.splice(at, 0, { item: i, score });
    if (top.length > limit) top.pop();
  }

  return top.map(({ item: i, score }): Ranked => {
    const item = index.items[i];
    const affordable = item.pointsPrice <= signals.balance;
    const parts: [ReasonCode, number][] = coldStart
      ? [['POPULAR', Math.log1p(popularity[i]) / popularityScale]]
      : [
          ['POPULAR_WITH_SIMILAR_MEMBERS', collaborative[i] * collaborativeScale],
          ['SIMILAR_TO_HISTORY', content[i] * contentScale],
          ['POPULAR', (WEIGHT_POPULARITY * Math.log1p(popularity[i])) / popularityScale],
        ];
    const [strongest, strength] = parts.reduce((best, part) => (part[1] > best[1] ? part : best));
    let reasonCode: ReasonCode = strength >= REASON_FLOOR || coldStart ? strongest : 'FITS_BALANCE';
    const uses = affordable && signals.expiringPoints > 0 ? Math.min(item.pointsPrice, signals.expiringPoints) / signals.expiringPoints : 0;
    if (urgency > 0 && uses >= 0.5) reasonCode = 'USES_EXPIRING_POINTS';
    const anchor = reasonCode === 'POPULAR_WITH_SIMILAR_MEMBERS' ? (anchorOf[i] >= 0 ? anchorOf[i] : null) : reasonCode === 'SIMILAR_TO_HISTORY' ? similarAnchor(index, i, history) : null;
    return { item: i, score, reasonCode, anchor, affordable };
  });
}

/** The history item most like `item` by content (another one when it was itself redeemed). */
function similarAnchor(index: ItemIndex, item: number, history: number[]): number | null {
  const { best } = index.mostSimilar(item, history);
  return best ?? (history.includes(item) ? item : null);
}

/**
 * The served list from ranked candidates: only items the live check calls eligible, an
 * affordable item first (an unaffordable one never leads), and the expiring-points reason on
 * at most NUDGE_REASON_SLOTS results (the others fall back to what else explains them).
 */
export function finalize(ranked: readonly Ranked[], eligible: (item: number) => boolean, first: number): Ranked[] {
  const list = ranked.filter((r) => eligible(r.item));
  const lead = list.findIndex((r) => r.affordable);
  if (lead < 0) return [];
  if (lead > 0) list.unshift(...list.splice(lead, 1));
  let nudges = 0;
  return list.slice(0, first).map((r) => {
    if (r.reasonCode !== 'USES_EXPIRING_POINTS') return r;
    return ++nudges <= NUDGE_REASON_SLOTS ? r : { ...r, reasonCode: r.anchor != null ? 'SIMILAR_TO_HISTORY' : 'FITS_BALANCE' };
  });
}
