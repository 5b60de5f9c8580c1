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
 * Live boards for every subscriber of this instance. A change notice (from any instance)
 * schedules one computation per board after `coalesceMs`: the top is read once, its members
 * once, and each subscriber is sent its slice only when that slice changed.
 */
export class LeaderboardFeed {
  private readonly subscribers = new Map<PeriodKind, Set<Subscriber>>();
  private readonly timers = new Map<PeriodKind, NodeJS.Timeout>();
  /** The last board computed per period while it has subscribers: new subscribers start from it. */
  private readonly latest = new Map<PeriodKind, LeaderboardValue>();
  private stopListening: (() => void) | null = null;

  constructor(
    private readonly deps: { leaderboard: LeaderboardStore; pubSub: RedisPubSubAdapter; orm: MikroORM; tierCache: TierCache; log: Logger; coalesceMs: number },
  ) {}

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
    const latest = this.latest.get(kind);
    if (latest) {
      this.send(subscriber, { ...latest, entries: latest.entries.slice(0, subscriber.first) });
    } else {
      this.schedule(kind);
    }
    return subscriber.channel;
  }

  private send(subscriber: Subscriber, slice: LeaderboardValue): void {
    subscriber.lastSent = JSON.stringify(slice.entries);
    subscriber.channel.push(slice);
  }

  private schedule(kind: PeriodKind): void {
    if (this.timers.has(kind)) return;
    const timer = setTimeout(() => {
      this.timers.delete(kind);
      void this.compute(kind, [...(this.subscribers.get(kind) ?? [])]);
    }, this.latest.has(kind) ? this.deps.coalesceMs : 0);
    timer.unref();
    this.timers.set(kind, timer);
  }

  private async compute(kind: PeriodKind, subscribers: Subscriber[]): Promise<void> {
    if (subscribers.length === 0) return;
    try {
      // Always the top 100: the cached board then serves a new subscriber of any `first`.
      const board = await this.deps.leaderboard.top(kind, MAX_BOARD_FIRST);
      const value = await this.withMembers(kind, board);
      if (this.subscribers.has(kind)) this.latest.set(kind, value);
      // One slice (and one signature) per distinct `first`, shared by every subscriber asking for it.
      const slices = new Map<number, { slice: LeaderboardValue; signature: string }>();
      for (const subscriber of subscribers) {
        let shared = slices.get(subscriber.first);
        if (!shared) {
          const slice: LeaderboardValue = { ...value, entries: value.entries.slice(0, subscriber.first) };
          // Issue 5: pushed only when the top `first` changed; a new member below it is not news.
          shared = { slice, signature: JSON.stringify(slice.entries) };
          slices.set(subscriber.first, shared);
        }
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
        ? em.execute<{ id: string; nickname: string; tier_level: number }[]>(
            'select id, nickname, tier_level from member where id in (select jsonb_array_elements_text(?::jsonb)::uuid)',
            [JSON.stringify(ids)],
          )
        : [],
      this.deps.tierCache.get(em),
    ]);
    const byId = new Map(rows.map((r) => [r.id, { id: r.id, nickname: r.nickname, tierLevel: r.tier_level }]));
    return { period: kind, totalMembers: board.total, updatedAt: board.updatedAt, entries: boardEntries(board.entries, byId, tiers) };
  }
}
