import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import { LatestValueChannel } from '../realtime/latest-value';
import type { RedisPubSubAdapter } from '../realtime/pubsub';
import { LEDGER_MOVED_TOPIC } from '../ledger/ledger.events';
import type { ProgramStatsValue, StatsService } from './stats.service';

/**
 * The admins' live dashboard: while the ledger moves, stats are recomputed at most once per
 * `intervalMs` per instance and pushed to every admin subscriber of this instance.
 */
export class StatsFeed {
  private readonly subscribers = new Set<LatestValueChannel<ProgramStatsValue>>();
  private timer: NodeJS.Timeout | null = null;
  /**
   * Pacing of work, not a time of day: measured on the monotonic timer, so a program clock moved
   * by hours (tests, an NTP step) neither releases a burst of recomputations nor stalls them.
   * The stats themselves are computed at the injected clock's now.
   */
  private lastComputed = -Infinity;
  private stopListening: (() => void) | null = null;

  constructor(private readonly deps: { stats: StatsService; pubSub: RedisPubSubAdapter; orm: MikroORM; clock: Clock; log: Logger; intervalMs: number }) {}

  async start(): Promise<void> {
    this.stopListening = await this.deps.pubSub.listen(LEDGER_MOVED_TOPIC, () => this.schedule());
  }

  stop(): void {
    this.stopListening?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  subscribe(): AsyncIterableIterator<ProgramStatsValue> {
    const channel = new LatestValueChannel<ProgramStatsValue>(() => this.subscribers.delete(channel));
    this.subscribers.add(channel);
    void this.compute([channel]);
    return channel;
  }

  private schedule(): void {
    if (this.timer || this.subscribers.size === 0) return;
    const wait = Math.max(0, this.lastComputed + this.deps.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.compute([...this.subscribers]);
    }, wait);
    this.timer.unref();
  }

  private async compute(channels: LatestValueChannel<ProgramStatsValue>[]): Promise<void> {
    if (channels.length === 0) return;
    this.lastComputed = performance.now();
    try {
      const value = await this.deps.stats.compute(this.deps.orm.em.fork(), this.deps.clock.now());
      for (const channel of channels) channel.push(value);
    } catch (error) {
      this.deps.log.warn({ err: error }, 'stats push skipped');
    }
  }
}
