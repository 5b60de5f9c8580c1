import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logger';
import type { RedisClients } from '../platform/redis';
import type { RedisPubSubAdapter } from '../realtime/pubsub';
import { DomainError, ErrorCode } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { LimitExceededError, OutOfStockError } from './catalog.errors';

/**
 * The flash-sale admission gate (issue 14, seed 001's high-concurrency path).
 *
 * When 10,000 members ask for 1,000 units of one item at once, PostgreSQL would open 10,000
 * redemption transactions, each locking its member and reading the item, and refuse 9,000 of
 * them at the end. For items an admin flags `hot`, this gate answers first, in Redis: one
 * atomic script checks the per-member limit and takes a unit from a counter, so a sold-out or
 * over-limit request is refused in a Redis round trip and opens no transaction (it spends no
 * points: it never reaches the ledger). A request the gate admits goes through the normal
 * redemption transaction, which checks everything again: PostgreSQL stays the truth.
 *
 * The one rule that keeps this safe: the gate may let through more than PostgreSQL will accept
 * (that costs a transaction that fails as it would have without the gate), never less once the
 * requests it admitted are answered (while one is under way its unit is held, as PostgreSQL's
 * row would be). So:
 * - a winner whose transaction fails (insufficient points, a cap, frozen, …) gives its admission
 *   back; one refused for stock gives it back only up to the stock PostgreSQL reported;
 * - the counters are rebuilt from PostgreSQL at start, when Redis comes back (it may have come
 *   back empty), when a script finds an item's counters gone, after an admin edits a hot item
 *   (stock, limit, the flag) and after a redemption of a hot item is cancelled (stock returned);
 * - a rebuild gives each item a new generation: an admission from before it is not given back
 *   (the rebuild already read what PostgreSQL holds), so rebuilds and give-backs never count a
 *   unit twice;
 * - Redis down or slow: the gate steps aside (PostgreSQL answers alone, as without the gate);
 * - an instance that dies between an admission and its answer holds that unit until the next
 *   rebuild (its restart is one).
 *
 * A member who fails for several reasons may get another of them than without the gate (sold
 * out rather than frozen); each code the gate gives is one the transaction gives, with its message.
 *
 * Every instance shares the counters (they live in Redis). Each instance keeps the list of hot
 * item ids in memory so a normal redemption costs no Redis round trip; an edit anywhere
 * publishes a change and every instance re-reads the list.
 */

/**
 * Admission: one round trip, atomic, so concurrent requests from any instance can neither take
 * the last unit twice nor slip past a member's limit together. Lua because the decision reads
 * three values and writes three (the unit, the member's count, the request's key): no single
 * Redis command does that, and WATCH/MULTI would retry under exactly the contention a flash sale
 * is. KEYS share one hash tag (the item), so the script runs on a Redis Cluster too.
 *   KEYS[1] item hash {stock, limit (-1: none), from, until (ms, '' : open), gen}
 *   KEYS[2] member → units admitted (committed or under way)
 *   KEYS[3] "memberId|idempotencyKey" of every redemption admitted or recorded
 *   ARGV: memberId, quantity, now (ms), memberId|idempotencyKey
 * Returns {'missing'} (no counters: not hot any more, or Redis lost them), {'pass'} (let
 * PostgreSQL answer: a replayed key, or outside the sale's window, so the member sees the same
 * answer as without the gate), {'limit', limit, used}, {'sold-out', stock} or {'admitted', gen}.
 */
const ADMIT = `
local item = redis.call('HMGET', KEYS[1], 'stock', 'limit', 'from', 'until', 'gen')
if not item[1] then return {'missing'} end
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then return {'pass'} end
local now = tonumber(ARGV[3])
if (item[3] ~= '' and now < tonumber(item[3])) or (item[4] ~= '' and now >= tonumber(item[4])) then return {'pass'} end
local quantity = tonumber(ARGV[2])
local limit = tonumber(item[2])
local used = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if limit >= 0 and used + quantity > limit then return {'limit', limit, used} end
local stock = tonumber(item[1])
if stock < quantity then return {'sold-out', stock} end
redis.call('HINCRBY', KEYS[1], 'stock', -quantity)
redis.call('HINCRBY', KEYS[2], ARGV[1], quantity)
redis.call('HSET', KEYS[3], ARGV[4], '1')
return {'admitted', item[5]}
`;

/**
 * Give-back of an admission whose transaction failed; a no-op when the item was rebuilt since
 * (another generation). ARGV: gen, memberId, quantity, memberId|idempotencyKey, clamp (the
 * stock PostgreSQL reported when it refused for stock; -1: none).
 */
const GIVE_BACK = `
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
local quantity = tonumber(ARGV[3])
local stock = redis.call('HINCRBY', KEYS[1], 'stock', quantity)
local clamp = tonumber(ARGV[5])
if clamp >= 0 and stock > clamp then redis.call('HSET', KEYS[1], 'stock', clamp) end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -quantity) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('HDEL', KEYS[3], ARGV[4])
return 1
`;

type GateRedis = Redis & {
  flashAdmit(item: string, members: string, keys: string, memberId: string, quantity: number, now: number, memberKey: string): Promise<(string | number)[]>;
  flashGiveBack(item: string, members: string, keys: string, gen: string, memberId: string, quantity: number, memberKey: string, clamp: number): Promise<number>;
};

/** The keys of one hot item (one hash tag: one Redis Cluster slot). */
const itemKeys = (itemId: string) => [`{flash:${itemId}}:item`, `{flash:${itemId}}:members`, `{flash:${itemId}}:keys`] as const;
/** The ids of the hot items, for the instances' in-memory lists. */
const HOT_SET = '{flash}:hot';
const CHANGED_TOPIC = 'FLASH_GATE_CHANGED';
/** The redemption transaction checks the same bounds; outside them the gate lets it answer. */
const KEY_MAX = 128;
/*
 * Admitted redemptions of one item that run their transaction at once on an instance
 * (FLASH_SALE_WINNERS_AT_ONCE, default DATABASE_POOL_MAX); the others wait their turn in the gate,
 * holding no connection or lock. More than the pool only queue for a connection (past the pool's
 * acquire timeout on a busy machine: SERVICE_UNAVAILABLE, 55 of 1,000 winners in one bench run)
 * and on the item's row. Fewer than the pool starve the sale: the row is locked only for the last
 * statement, so winners on different members overlap (8 at once sold 3x slower than 20,
 * `npm run bench -- flash`).
 */

/** What a request asks the gate for (the redeem input). */
export interface AdmissionRequest {
  itemId: string;
  quantity?: number | null;
  idempotencyKey: string;
}

interface Admission {
  itemId: string;
  memberId: string;
  quantity: number;
  memberKey: string;
  gen: string;
}

/** What the redeem use case asks of the gate (RedemptionService's dependency). */
export interface RedemptionGate {
  /** Runs `redeem` if the gate admits the request (or does not guard the item); refuses with the service's own errors otherwise. */
  through<T extends { duplicate: boolean }>(memberId: string, request: AdmissionRequest, redeem: () => Promise<T>): Promise<T>;
}

export class FlashSaleGate implements RedemptionGate {
  private readonly redis: GateRedis;
  private hot = new Set<string>();
  private current: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | null = null;
  private stopListening: (() => void) | null = null;
  private stopped = false;
  /** Warn once per outage, not once per request of a flash sale. */
  private redisDown = false;
  /** Rebuilds started, by why (`start`, `redis-back`, `missing`, `edit`, `returned`): for /metrics, so an operator sees them. */
  readonly rebuilds = new Map<string, number>();
  /** Per hot item: admitted redemptions running their transaction, and those waiting for a turn. */
  private readonly turns = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly deps: { redis: RedisClients; orm: MikroORM; clock: Clock; log: Logger; pubSub: RedisPubSubAdapter; winnersAtOnce: number }) {
    const redis = deps.redis.command;
    if (!('flashAdmit' in redis)) {
      redis.defineCommand('flashAdmit', { numberOfKeys: 3, lua: ADMIT });
      redis.defineCommand('flashGiveBack', { numberOfKeys: 3, lua: GIVE_BACK });
    }
    this.redis = redis as GateRedis;
  }

  /**
   * Listens for other instances' changes and builds the counters from PostgreSQL; from then on
   * rebuilds whenever Redis is back (it may have restarted empty). A failed first build is not
   * fatal: the gate steps aside until a rebuild succeeds.
   */
  async start(): Promise<void> {
    this.stopListening = await this.deps.pubSub.listen(CHANGED_TOPIC, () => void this.reloadHotSet());
    this.deps.redis.command.on('ready', this.onRedisBack);
    await this.rebuild('start').catch((error: unknown) => this.deps.log.warn({ err: error }, 'flash-sale gate: build at start failed'));
  }

  stop(): void {
    this.stopped = true;
    this.stopListening?.();
    this.deps.redis.command.off('ready', this.onRedisBack);
  }

  private readonly onRedisBack = () => {
    this.redisDown = false;
    void this.rebuild('redis-back').catch((error: unknown) => this.deps.log.warn({ err: error }, 'flash-sale gate: rebuild after Redis came back failed'));
  };

  /** Whether this instance guards the item's redemptions (tests wait for another instance's edit to arrive). */
  guards(itemId: string): boolean {
    return this.hot.has(itemId);
  }

  async through<T extends { duplicate: boolean }>(memberId: string, request: AdmissionRequest, redeem: () => Promise<T>): Promise<T> {
    const admission = await this.admit(memberId, request);
    if (!admission) return redeem();
    let result: T;
    const done = await this.turn(admission.itemId);
    try {
      result = await redeem();
    } catch (error) {
      await this.giveBack(admission, error);
      throw error;
    } finally {
      done();
    }
    // A replay returns the first redemption and takes nothing: the admission goes back.
    if (result.duplicate) await this.giveBack(admission, null);
    return result;
  }

  /** Waits until fewer than `winnersAtOnce` admitted redemptions of the item run here; resolves with the release. */
  private async turn(itemId: string): Promise<() => void> {
    let line = this.turns.get(itemId);
    if (!line) this.turns.set(itemId, (line = { running: 0, waiting: [] }));
    const queue = line;
    if (queue.running >= this.deps.winnersAtOnce) await new Promise<void>((resolve) => queue.waiting.push(resolve));
    else queue.running += 1;
    return () => {
      // The slot passes straight to the next in line (running stays the same), or is freed.
      const next = queue.waiting.shift();
      if (next) next();
      else if (--queue.running === 0) this.turns.delete(itemId);
    };
  }

  /** Null: not guarded (not hot, malformed input the service refuses, Redis away); throws the refusal. */
  private async admit(memberId: string, request: AdmissionRequest): Promise<Admission | null> {
    if (!this.hot.has(request.itemId)) return null;
    const quantity = request.quantity ?? 1;
    const key = request.idempotencyKey.trim();
    if (!Number.isInteger(quantity) || quantity < 1 || !key || key.length > KEY_MAX || !isUuid(memberId)) return null;
    const memberKey = `${memberId}|${key}`;
    let answer: (string | number)[];
    try {
      answer = await this.redis.flashAdmit(...itemKeys(request.itemId), memberId, quantity, this.deps.clock.now().getTime(), memberKey);
    } catch (error) {
      if (!this.redisDown) this.deps.log.warn({ err: error }, 'flash-sale gate: Redis did not answer; PostgreSQL alone decides until it does');
      this.redisDown = true;
      return null;
    }
    switch (answer[0]) {
      case 'admitted':
        return { itemId: request.itemId, memberId, quantity, memberKey, gen: String(answer[1]) };
      case 'limit':
        // The same error (and message) the redemption transaction gives.
        throw new LimitExceededError(`At most ${answer[1]} per member (${answer[2]} already redeemed)`, Number(answer[1]));
      case 'sold-out':
        throw new OutOfStockError(request.itemId, Number(answer[1]));
      case 'missing':
        // Flagged hot here but no counters: Redis lost them, or the item is not hot any more
        // (another instance's edit not yet heard). Either way a rebuild settles it.
        void this.rebuild('missing').catch((error: unknown) => this.deps.log.warn({ err: error }, 'flash-sale gate: rebuild failed'));
        return null;
      default:
        return null;
    }
  }

  /**
   * The transaction did not take what the gate admitted: back it goes. Refused for stock, the
   * counter is also lowered to what PostgreSQL reported (the gate was ahead of it). Never
   * throws: the member gets the transaction's error, and a lost give-back only costs units until
   * the next rebuild.
   */
  private async giveBack(admission: Admission, error: unknown): Promise<void> {
    const stockSeen = error instanceof DomainError && error.code === ErrorCode.OUT_OF_STOCK ? Number(error.details.stock) : -1;
    const clamp = Number.isInteger(stockSeen) && stockSeen >= 0 ? stockSeen : -1;
    try {
      await this.redis.flashGiveBack(...itemKeys(admission.itemId), admission.gen, admission.memberId, admission.quantity, admission.memberKey, clamp);
    } catch (failure) {
      this.deps.log.warn({ err: failure, itemId: admission.itemId }, 'flash-sale gate: give-back failed; the item is rebuilt when Redis is back');
    }
  }

  /** After an admin created or edited an item (committed): a hot item, or one that was, is rebuilt. */
  async itemChanged(itemId: string): Promise<void> {
    try {
      const [row] = await this.deps.orm.em.fork().execute<{ hot: boolean }[]>('select hot from catalog_item where id = ?', [itemId]);
      if (row?.hot || this.hot.has(itemId)) await this.rebuild('edit');
    } catch (error) {
      this.afterCommitFailed(error, itemId);
    }
  }

  /**
   * After a redemption was cancelled or its hold released (committed): its units are back in
   * PostgreSQL. Asks Redis too, for a process that never started the gate (`npm run jobs`).
   */
  async unitsReturned(itemId: string): Promise<void> {
    try {
      if (this.hot.has(itemId) || (await this.redis.sismember(HOT_SET, itemId)) === 1) await this.rebuild('returned');
    } catch (error) {
      this.afterCommitFailed(error, itemId);
    }
  }

  /** The edit or the cancel committed and is answered; the gate is behind (under-admits) until the next rebuild. */
  private afterCommitFailed(error: unknown, itemId: string) {
    this.deps.log.warn({ err: error, itemId }, 'flash-sale gate: rebuild after a change failed; the next rebuild (Redis back, next edit) catches up');
  }

  /**
   * Rebuilds every hot item's counters from PostgreSQL. Runs after the one in progress (whose
   * reads may predate the caller's commit); callers arriving while one waits share it.
   */
  rebuild(reason = 'asked'): Promise<void> {
    this.rebuilds.set(reason, (this.rebuilds.get(reason) ?? 0) + 1);
    if (!this.waiting) {
      const next = this.current
        .catch(() => undefined)
        .then(() => {
          this.waiting = null;
          return this.rebuildNow();
        });
      this.waiting = next;
      this.current = next;
    }
    return this.waiting;
  }

  private async rebuildNow(): Promise<void> {
    if (this.stopped) return;
    const em = this.deps.orm.em.fork();
    // Stock first, then usage: a redemption committing in between is in the usage and not in the
    // stock, so the gate admits one unit too many (PostgreSQL refuses it), never one too few.
    const items = await em.execute<{ id: string; stock: number; per_member_limit: number | null; available_from: Date | null; available_until: Date | null }[]>(
      'select id, stock, per_member_limit, available_from, available_until from catalog_item where hot and active order by id',
    );
    const ids = items.map((i) => i.id);
    const usage = ids.length
      ? await em.execute<{ item_id: string; member_id: string; used: number; keys: string[] }[]>(
          `select item_id, member_id, coalesce(sum(quantity) filter (where status <> 'CANCELLED'), 0)::int as used, array_agg(idempotency_key) as keys
           from redemption where item_id = any(?::uuid[]) group by item_id, member_id`,
          [`{${ids.join(',')}}`],
        )
      : [];
    const previous = await this.redis.smembers(HOT_SET);
    const ms = (d: Date | null) => (d == null ? '' : String(new Date(d).getTime()));
    // One MULTI per item (its keys share a slot; all sent at once): an admission sees the old
    // counters or the new ones, never half of them.
    const writes = items.map((item) => {
      const [itemKey, membersKey, keysKey] = itemKeys(item.id);
      const rows = usage.filter((u) => u.item_id === item.id);
      const used = rows.filter((u) => u.used > 0).flatMap((u) => [u.member_id, String(u.used)]);
      const keys = rows.flatMap((u) => u.keys.flatMap((k) => [`${u.member_id}|${k}`, '1']));
      const multi = this.redis.multi().del(itemKey, membersKey, keysKey);
      multi.hset(itemKey, 'stock', item.stock, 'limit', item.per_member_limit ?? -1, 'from', ms(item.available_from), 'until', ms(item.available_until), 'gen', randomUUID());
      if (used.length) multi.hset(membersKey, ...used);
      if (keys.length) multi.hset(keysKey, ...keys);
      return multi.exec();
    });
    for (const gone of previous.filter((id) => !ids.includes(id)))
      writes.push(
        this.redis
          .multi()
          .del(...itemKeys(gone))
          .exec(),
      );
    writes.push(
      (ids.length
        ? this.redis
            .multi()
            .del(HOT_SET)
            .sadd(HOT_SET, ...ids)
        : this.redis.multi().del(HOT_SET)
      ).exec(),
    );
    for (const results of await Promise.all(writes)) {
      const failed = (results ?? []).find(([error]) => error)?.[0];
      if (failed) throw failed;
    }
    this.hot = new Set(ids);
    this.deps.pubSub.publish(CHANGED_TOPIC, { items: ids.length });
  }

  private async reloadHotSet(): Promise<void> {
    try {
      this.hot = new Set(await this.redis.smembers(HOT_SET));
    } catch (error) {
      this.deps.log.warn({ err: error }, 'flash-sale gate: reading the hot items failed');
    }
  }
}
