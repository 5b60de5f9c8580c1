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
/** Co-redemption neighbours read per history item (strongest first, ties by id). */
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

/** Price bands double: 100-199, 200-399, ... so "coffee money" and "headphone money" differ. */
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

  constructor(readonly items: readonly RecItem[]) {
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
      const norm = Math.hypot(...weighted.map((f) => f.weight)) || 1;
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
}

export interface Ranked {
  item: number;
  score: number;
  reasonCode: ReasonCode;
  /** The history item that explains a SIMILAR_TO_HISTORY or POPULAR_WITH_SIMILAR_MEMBERS reason. */
  anchor: number | null;
  affordable: boolean;
}

const fitOf = (price: number, balance: number): number => (price <= balance ? 1 : price <= balance * SOON_SHARE ? FIT_SOON : 0);

function maxOf(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/**
 * Scores every offered item for one member and returns the best `limit` (ties by item id, so
 * the same data gives the same list). `popularity` is aligned with index.items (7-day counts).
 */
export function rankCandidates(index: ItemIndex, popularity: ArrayLike<number>, signals: MemberSignals, limit: number): Ranked[] {
  const n = index.items.length;
  const history = signals.history.slice(0, HISTORY_LIMIT).map((id) => index.position.get(id)).filter((i): i is number => i !== undefined);
  const recency = new Map<number, number>();
  history.forEach((item, rank) => recency.set(item, RECENCY_DECAY ** rank));
  const totalRecency = [...recency.values()].reduce((a, b) => a + b, 0) || 1;

  const content = new Float64Array(n);
  index.contentScores(history.map((item) => ({ item, weight: recency.get(item)! / totalRecency })), content);

  const collaborative = new Float64Array(n);
  for (const { anchor, itemId, together } of signals.neighbours) {
    const a = index.position.get(anchor);
    const c = index.position.get(itemId);
    if (a === undefined || c === undefined || a === c || !recency.has(a)) continue;
    const norm = Math.sqrt((signals.redeemers.get(anchor) ?? together) * (signals.redeemers.get(itemId) ?? together)) || 1;
    collaborative[c] += (recency.get(a)! / totalRecency) * (together / norm) * (together / (together + CO_SHRINK));
  }

  let popularityMax = 0;
  for (let i = 0; i < n; i++) popularityMax = Math.max(popularityMax, popularity[i]);
  const popularityScale = Math.log1p(popularityMax) || 1;
  const contentMax = maxOf(content) || 1;
  const collaborativeMax = maxOf(collaborative) || 1;
  const coldStart = history.length === 0;
  const urgency = signals.expiringInDays == null ? 0 : 1 - 0.5 * Math.min(Math.max(signals.expiringInDays, 0), NUDGE_DAYS) / NUDGE_DAYS;

  const scored: (Ranked & { id: string })[] = [];
  for (let i = 0; i < n; i++) {
    const item = index.items[i];
    if (!item.offered) continue;
    const fit = fitOf(item.pointsPrice, signals.balance);
    if (fit === 0) continue;
    const pop = Math.log1p(popularity[i]) / popularityScale;
    const parts: [ReasonCode, number][] = coldStart
      ? [['POPULAR', pop]]
      : [
          ['POPULAR_WITH_SIMILAR_MEMBERS', (WEIGHT_COLLABORATIVE * collaborative[i]) / collaborativeMax],
          ['SIMILAR_TO_HISTORY', (WEIGHT_CONTENT * content[i]) / contentMax],
          ['POPULAR', WEIGHT_POPULARITY * pop],
        ];
    const base = parts.reduce((sum, [, value]) => sum + value, 0);
    const affordable = fit === 1;
    const uses = affordable && signals.expiringPoints > 0 ? Math.min(item.pointsPrice, signals.expiringPoints) / signals.expiringPoints : 0;
    const nudge = NUDGE_WEIGHT * uses * urgency;
    const score = base * fit * (recency.has(i) ? REPEAT_FACTOR : 1) + nudge;
    const [strongest, strength] = parts.reduce((best, part) => (part[1] > best[1] ? part : best));
    let reasonCode: ReasonCode = strength >= REASON_FLOOR || coldStart ? strongest : 'FITS_BALANCE';
    if (nudge > 0 && uses >= 0.5) reasonCode = 'USES_EXPIRING_POINTS';
    scored.push({ id: item.id, item: i, score, reasonCode, anchor: null, affordable });
  }
  scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const top = scored.slice(0, limit);
  for (const r of top) r.anchor = anchorFor(index, r, history, signals);
  return top.map(({ id: _id, ...r }) => r);
}

/** The history item that best explains a result, for its reason text. */
function anchorFor(index: ItemIndex, r: Ranked, history: number[], signals: MemberSignals): number | null {
  if (r.reasonCode === 'SIMILAR_TO_HISTORY') {
    let best: number | null = null;
    let bestSimilarity = 0;
    for (const h of history) {
      const similarity = index.similarity(h, r.item);
      if (similarity > bestSimilarity && h !== r.item) [best, bestSimilarity] = [h, similarity];
    }
    return best ?? (history.includes(r.item) ? r.item : null);
  }
  if (r.reasonCode === 'POPULAR_WITH_SIMILAR_MEMBERS') {
    const id = index.items[r.item].id;
    let best: { anchor: number; together: number } | null = null;
    for (const n of signals.neighbours) {
      const a = index.position.get(n.anchor);
      if (n.itemId === id && a !== undefined && (!best || n.together > best.together)) best = { anchor: a, together: n.together };
    }
    return best?.anchor ?? null;
  }
  return null;
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

