import { channel } from 'node:diagnostics_channel';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../platform/logger';
import type { PeriodKind } from '../platform/time';
import { LatestValueChannel } from '../realtime/latest-value';
import type { RedisPubSubAdapter } from '../realtime/pubsub';
import { LEDGER_MOVED_TOPIC } from '../ledger/ledger.events';
import type { TierCache } from '../members/tier.cache';
import type { Board, LeaderboardStore } from './leaderboard.store';
import { boardEntries } from './leaderboard.rules';

export interface LeaderboardMemberValue {
  id: string;
  nickname: string;
  tierLevel: number;
}

export interface LeaderboardValue {
  period: PeriodKind;
  entries: { rank: number; score: number; member: LeaderboardMemberValue }[];
  totalMembers: number;
  updatedAt: Date;
}

interface Subscriber {
  first: number;
  channel: LatestValueChannel<LeaderboardValue>;
  lastSent: string | null;
}

export const MAX_BOARD_FIRST = 100;

/**
 * Told, when anyone listens (the fanout bench does), of each board computed: its period, its #1
 * member and when its coalescing window closed (performance.timeOrigin + performance.now(), one
 * clock for every process of the machine), so push latency can be measured from that moment.
 */
export const boardComputed = channel('loyalty:leaderboard:computed');

interface Slice {
  slice: LeaderboardValue;
  /** The slice's entries as JSON: a subscriber is pushed a slice only when this differs from its last one. */
  signature: string;
}

/** One computed board and its slices, made once per distinct `first` and shared by every subscriber asking for it. */
interface ComputedBoard {
  value: LeaderboardValue;
  slices: Map<number, Slice>;
}

function sliceOf(board: ComputedBoard, first: number): Slice {
  let shared = board.slices.get(first);
  if (!shared) {
    const slice: LeaderboardValue = { ...board.value, entries: board.value.entries.slice(0, first) };
    board.slices.set(first, (shared = { slice, signature: JSON.stringify(slice.entries) }));
  }
  return shared;
}

/**
 * Live boards for every subscriber of this instance. A change notice (from any instance)
 * schedules one computation per board after `coalesceMs`: the top is read once, its members
 * once, and each subscriber is sent its slice only when that slice changed.
 */
export class LeaderboardFeed {
  private readonly subscribers = new Map<PeriodKind, Set<Subscriber>>();
  private readonly timers = new Map<PeriodKind, NodeJS.Timeout>();
  /** The last board computed per period while it has subscribers: new subscribers start from it. */
  private readonly latest = new Map<PeriodKind, ComputedBoard>();
  private stopListening: (() => void) | null = null;

  constructor(private readonly deps: { leaderboard: LeaderboardStore; pubSub: RedisPubSubAdapter; orm: MikroORM; tierCache: TierCache; log: Logger; coalesceMs: number }) {}

  async start(): Promise<void> {
    this.stopListening = await this.deps.pubSub.listen(LEDGER_MOVED_TOPIC, () => {
      for (const kind of this.subscribers.keys()) this.schedule(kind);
    });
  }

  stop(): void {
    this.stopListening?.();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  subscribe(kind: PeriodKind, first: number): AsyncIterableIterator<LeaderboardValue> {
    const subscribers = this.subscribers.get(kind) ?? new Set<Subscriber>();
    this.subscribers.set(kind, subscribers);
    const subscriber: Subscriber = {
      first: Math.min(Math.max(first, 1), MAX_BOARD_FIRST),
      lastSent: null,
      channel: new LatestValueChannel<LeaderboardValue>(() => {
        subscribers.delete(subscriber);
        if (subscribers.size === 0) {
          this.subscribers.delete(kind);
          this.latest.delete(kind);
        }
      }),
    };
    subscribers.add(subscriber);
    // The current board first, then changes only. Thousands of sockets connecting at once share
    // one computation (the last one, or the next coalesced one), not one read each.
    // They also share its slice object: the socket layer then executes and serializes it once for them all.
    const latest = this.latest.get(kind);
    if (latest) {
      const shared = sliceOf(latest, subscriber.first);
      subscriber.lastSent = shared.signature;
      subscriber.channel.push(shared.slice);
    } else {
      this.schedule(kind);
    }
    return subscriber.channel;
  }

  /** The board of `kind` was replaced in the store (rebuilt from the ledger): recomputed for its subscribers, if any. */
  boardReplaced(kind: PeriodKind): void {
    if (this.subscribers.has(kind)) this.schedule(kind);
  }

  private schedule(kind: PeriodKind): void {
    if (this.timers.has(kind)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(kind);
        const windowClosedAt = boardComputed.hasSubscribers ? performance.timeOrigin + performance.now() : 0;
        void this.compute(kind, [...(this.subscribers.get(kind) ?? [])], windowClosedAt);
      },
      this.latest.has(kind) ? this.deps.coalesceMs : 0,
    );
    timer.unref();
    this.timers.set(kind, timer);
  }

  private async compute(kind: PeriodKind, subscribers: Subscriber[], windowClosedAt: number): Promise<void> {
    if (subscribers.length === 0) return;
    try {
      // Always the top 100: the cached board then serves a new subscriber of any `first`.
      const board = await this.deps.leaderboard.top(kind, MAX_BOARD_FIRST);
      const value = await this.withMembers(kind, board);
      if (boardComputed.hasSubscribers) boardComputed.publish({ period: kind, top: value.entries[0]?.member.id ?? null, windowClosedAt });
      const computed: ComputedBoard = { value, slices: new Map() };
      if (this.subscribers.has(kind)) this.latest.set(kind, computed);
      for (const subscriber of subscribers) {
        const shared = sliceOf(computed, subscriber.first);
        // Issue 5: pushed only when the top `first` changed; a new member below it is not news.
        if (shared.signature === subscriber.lastSent) continue;
        subscriber.lastSent = shared.signature;
        subscriber.channel.push(shared.slice);
      }
    } catch (error) {
      this.deps.log.warn({ err: error, period: kind }, 'leaderboard push skipped');
    }
  }

  /** Members' names and tiers for one computed board: one query, a fresh EntityManager per event. */
  private async withMembers(kind: PeriodKind, board: Board): Promise<LeaderboardValue> {
    const em = this.deps.orm.em.fork();
    const ids = board.entries.map((e) => e.memberId);
    const [rows, tiers] = await Promise.all([
      ids.length
        ? em.execute<{ id: string; nickname: string; tier_level: number }[]>('select id, nickname, tier_level from member where id in (select jsonb_array_elements_text(?::jsonb)::uuid)', [
            JSON.stringify(ids),
          ])
        : [],
      this.deps.tierCache.get(em),
    ]);
    const byId = new Map(rows.map((r) => [r.id, { id: r.id, nickname: r.nickname, tierLevel: r.tier_level }]));
    return { period: kind, totalMembers: board.total, updatedAt: board.updatedAt, entries: boardEntries(board.entries, byId, tiers) };
  }
}
