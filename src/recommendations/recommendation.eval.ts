/**
 * Offline evaluation of the recommendation rules (`npm run eval:recs`): a deterministic
 * synthetic history where members have latent tastes (a main and a second category, a
 * sub-style within the main one, a price band), each member's last redemption hidden, and the
 * same pure scoring the service runs (rankCandidates + finalize) compared with popularity and
 * random on hit rate @5 and NDCG @5. Everything is in memory; no database.
 */
import { HISTORY_LIMIT, ItemIndex, NEIGHBOURS_PER_ITEM, finalize, rankCandidates, type MemberSignals, type RecItem } from './recommendation.rules';
import { prng } from '../platform/random';

export interface EvalOptions {
  members: number;
  items: number;
  redemptions: number;
  seed: number;
  k: number;
}

export const DEFAULT_EVAL: EvalOptions = { members: 50_000, items: 500, redemptions: 500_000, seed: 11, k: 5 };

export interface EvalRow {
  method: string;
  hitRate: number;
  ndcg: number;
}

const CATEGORIES = ['咖啡', '茶饮', '数码', '美妆', '家居', '母婴', '运动', '图书', '出行', '美食'];
const TYPES = ['COUPON', 'COUPON', 'PHYSICAL', 'PHYSICAL', 'PHYSICAL', 'PHYSICAL', 'PHYSICAL', 'VIRTUAL', 'VIRTUAL', 'COUPON'];
const STYLES = 4;
const NOISE_TAGS = ['新品', '限时', '人气', '会员专享', '包邮', '节日'];
const BAND_PRICES = [100, 250, 600, 1500, 4000];

interface World {
  items: RecItem[];
  /** Per member: item indexes in redemption order. */
  histories: Int32Array[];
  balances: Float64Array;
}

/** The synthetic world: items over categories × styles × price bands, members with tastes, redemptions drawn from them. */
export function generate(options: EvalOptions): World {
  const random = prng(options.seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const items: RecItem[] = [];
  const band: number[] = [];
  const weight: number[] = [];
  // A Fisher-Yates shuffle: which items are the best-sellers is unrelated to their category or price.
  const order = Array.from({ length: options.items }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  for (let i = 0; i < options.items; i++) {
    const category = i % CATEGORIES.length;
    const style = Math.floor(i / CATEGORIES.length) % STYLES;
    const b = Math.floor(i / (CATEGORIES.length * STYLES)) % BAND_PRICES.length;
    band.push(b);
    // Base appeal: a Zipf-like tail, so some items are best-sellers everywhere.
    weight.push(1 / (order[i] + 1) ** 0.8);
    items.push({
      id: `item-${String(i).padStart(4, '0')}`,
      name: `${CATEGORIES[category]}${i}`,
      category: CATEGORIES[category],
      tags: [`${CATEGORIES[category]}-风格${style}`, pick(NOISE_TAGS)],
      type: TYPES[category],
      pointsPrice: Math.round(BAND_PRICES[b] * (0.8 + 0.4 * random())),
      offered: true,
    });
  }
  const cells = new Map<string, number[]>();
  const add = (key: string, i: number) => (cells.get(key) ?? cells.set(key, []).get(key)!).push(i);
  items.forEach((item, i) => {
    add(`${item.category}|${band[i]}|${item.tags[0]}`, i);
    add(`${item.category}|${band[i]}`, i);
    add(item.category, i);
  });
  const draw = (pool: number[]) => {
    let total = 0;
    for (const i of pool) total += weight[i];
    let r = random() * total;
    for (const i of pool) if ((r -= weight[i]) <= 0) return i;
    return pool[pool.length - 1];
  };

  // Every member redeems at least twice; the rest goes to members by a skewed activity.
  const counts = new Int32Array(options.members).fill(2);
  const activity = Array.from({ length: options.members }, () => random() ** 2 + 0.02);
  const cumulative = new Float64Array(options.members);
  activity.reduce((sum, a, m) => (cumulative[m] = sum + a), 0);
  const total = cumulative[options.members - 1];
  for (let extra = options.redemptions - 2 * options.members; extra > 0; extra--) {
    const r = random() * total;
    let lo = 0;
    let hi = options.members - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }

  const histories: Int32Array[] = [];
  const balances = new Float64Array(options.members);
  for (let m = 0; m < options.members; m++) {
    const main = Math.floor(random() ** 1.5 * CATEGORIES.length);
    const second = (main + 1 + Math.floor(random() * (CATEGORIES.length - 1))) % CATEGORIES.length;
    const style = Math.floor(random() * STYLES);
    const favouriteBand = Math.floor(random() * BAND_PRICES.length);
    balances[m] = BAND_PRICES[favouriteBand] * (1 + 2 * random());
    const history = new Int32Array(counts[m]);
    for (let n = 0; n < counts[m]; n++) {
      const u = random();
      const category = u < 0.55 ? main : u < 0.8 ? second : Math.floor(random() * CATEGORIES.length);
      const v = random();
      const b = v < 0.6 ? favouriteBand : v < 0.85 ? Math.min(BAND_PRICES.length - 1, Math.max(0, favouriteBand + (random() < 0.5 ? -1 : 1))) : Math.floor(random() * BAND_PRICES.length);
      const name = CATEGORIES[category];
      const styled = category === main && random() < 0.6 ? cells.get(`${name}|${b}|${name}-风格${style}`) : undefined;
      history[n] = draw(styled ?? cells.get(`${name}|${b}`) ?? cells.get(name)!);
    }
    histories.push(history);
  }
  return { items, histories, balances };
}

/** Hides each member's last redemption, learns from the rest, and scores three methods on what was hidden. */
export function evaluate(options: EvalOptions = DEFAULT_EVAL): { rows: EvalRow[]; evaluated: number; world: { items: number; members: number; redemptions: number } } {
  const world = generate(options);
  const n = world.items.length;
  const index = new ItemIndex(world.items);
  const popularity = new Float64Array(n);
  const together = new Int32Array(n * n);
  const redeemers = new Int32Array(n);
  const distinct = world.histories.map((history) => {
    // Distinct items, most recent first, as the service reads them (training part only).
    const train = history.subarray(0, history.length - 1);
    const seen = new Set<number>();
    const recent: number[] = [];
    for (let i = train.length - 1; i >= 0; i--)
      if (!seen.has(train[i])) {
        seen.add(train[i]);
        recent.push(train[i]);
      }
    for (const i of train) popularity[i]++;
    return recent;
  });
  for (const items of distinct) {
    for (const a of items) redeemers[a]++;
    for (let x = 0; x < items.length; x++)
      for (let y = x + 1; y < items.length; y++) {
        together[items[x] * n + items[y]]++;
        together[items[y] * n + items[x]]++;
      }
  }
  // Each item's strongest neighbours, as the service's index range reads them.
  const neighbours = Array.from({ length: n }, (_, a) => {
    const list: { anchor: string; itemId: string; together: number }[] = [];
    for (let b = 0; b < n; b++) if (b !== a && together[a * n + b] > 0) list.push({ anchor: world.items[a].id, itemId: world.items[b].id, together: together[a * n + b] });
    return list.sort((p, q) => q.together - p.together || (p.itemId < q.itemId ? 1 : -1)).slice(0, NEIGHBOURS_PER_ITEM);
  });
  const redeemerMap = new Map(world.items.map((item, i) => [item.id, redeemers[i]]));
  const popularTop = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => popularity[b] - popularity[a] || a - b)
    .slice(0, options.k);

  const random = prng(options.seed + 1);
  const totals = { hybrid: { hits: 0, ndcg: 0 }, popularity: { hits: 0, ndcg: 0 }, random: { hits: 0, ndcg: 0 } };
  const credit = (total: { hits: number; ndcg: number }, list: number[], hidden: number) => {
    const position = list.indexOf(hidden);
    if (position >= 0 && position < options.k) {
      total.hits++;
      total.ndcg += 1 / Math.log2(position + 2);
    }
  };
  for (let m = 0; m < world.histories.length; m++) {
    const history = world.histories[m];
    const hidden = history[history.length - 1];
    const recent = distinct[m].slice(0, HISTORY_LIMIT);
    const signals: MemberSignals = {
      balance: world.balances[m],
      expiringPoints: 0,
      expiringInDays: null,
      history: recent.map((i) => world.items[i].id),
      neighbours: recent.flatMap((i) => neighbours[i]),
      redeemers: redeemerMap,
    };
    const served = finalize(rankCandidates(index, popularity, signals, options.k * 4), () => true, options.k).map((r) => r.item);
    credit(totals.hybrid, served, hidden);
    credit(totals.popularity, popularTop, hidden);
    const picks = new Set<number>();
    while (picks.size < options.k) picks.add(Math.floor(random() * n));
    credit(totals.random, [...picks], hidden);
  }
  const members = world.histories.length;
  const row = (method: string, t: { hits: number; ndcg: number }): EvalRow => ({ method, hitRate: t.hits / members, ndcg: t.ndcg / members });
  return {
    rows: [row('hybrid', totals.hybrid), row('popularity', totals.popularity), row('random', totals.random)],
    evaluated: members,
    world: { items: n, members, redemptions: world.histories.reduce((sum, h) => sum + h.length, 0) },
  };
}
