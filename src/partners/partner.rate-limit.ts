import type { Redis } from 'ioredis';
import type { Clock } from '../platform/clock';

/**
 * A token bucket per partner, kept in Redis so every instance draws from the same one. The
 * script reads, refills and takes atomically (one round trip, no race between instances).
 * Time is the caller's clock (the injected one, so tests move it); a bucket never refills
 * backwards when instances' clocks differ slightly.
 * Returns {allowed (1|0), retryAfterMs}.
 */
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  ts = now
end
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry}
`;

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
  /** Redis did not answer: the call was let through (fail open). */
  failedOpen: boolean;
}

type BucketRedis = Redis & { partnerTokenBucket(key: string, rate: number, burst: number, now: number): Promise<[number, number]> };

export class PartnerRateLimiter {
  private readonly redis: BucketRedis;

  constructor(
    redis: Redis,
    private readonly clock: Clock,
    private readonly limits: (partnerId: string) => { ratePerSecond: number; burst: number },
  ) {
    if (!('partnerTokenBucket' in redis)) redis.defineCommand('partnerTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
    this.redis = redis as BucketRedis;
  }

  /**
   * Takes one token. When Redis is down partners are still served: the limit protects us from
   * a runaway partner, and refusing every partner because a cache is down would be worse.
   */
  async take(partnerId: string): Promise<RateDecision> {
    const { ratePerSecond, burst } = this.limits(partnerId);
    try {
      const [allowed, retryAfterMs] = await this.redis.partnerTokenBucket(`partner-rate:${partnerId}`, ratePerSecond, burst, this.clock.now().getTime());
      return { allowed: allowed === 1, retryAfterMs, failedOpen: false };
    } catch {
      return { allowed: true, retryAfterMs: 0, failedOpen: true };
    }
  }
}
