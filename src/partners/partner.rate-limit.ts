import type { Redis } from 'ioredis';
import type { Clock } from '../platform/clock';

/**
 * A token bucket per partner, kept in Redis so every instance draws from the same one. The
 * script reads, refills and takes atomically (one round trip, no race between instances).
 * Time is the caller's clock (the injected one, so tests move it); a bucket never refills
 * backwards when instances' clocks differ slightly.
 * Takes up to ARGV[4] tokens at once (a lease, see below). Returns {taken, retryAfterMs}.
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
local want = tonumber(ARGV[4])
local taken = 0
local retry = 0
if tokens >= 1 then
  taken = math.min(want, math.floor(tokens))
  tokens = tokens - taken
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {taken, retry}
`;

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
  /** Redis did not answer: the call was let through (fail open). */
  failedOpen: boolean;
}

type BucketRedis = Redis & { partnerTokenBucket(key: string, rate: number, burst: number, now: number, want: number): Promise<[number, number]> };

/**
 * An instance takes tokens from the shared bucket a few at a time (a tenth of the burst, at most
 * LEASE_MAX) and spends them locally, so a busy partner costs one Redis round trip per lease, not
 * per call. Tokens still come only from the shared bucket: together the instances never exceed
 * the partner's rate. A lease unused for LEASE_MS is dropped, so an idle instance holds nothing.
 * Small buckets (burst < 20) lease one token at a time: exact.
 */
const LEASE_MAX = 20;
const LEASE_MS = 1000;

export class PartnerRateLimiter {
  private readonly redis: BucketRedis;
  private readonly leases = new Map<string, { tokens: number; until: number }>();

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
    const now = this.clock.now().getTime();
    const lease = this.leases.get(partnerId);
    if (lease && lease.tokens > 0 && lease.until > now) {
      lease.tokens -= 1;
      return { allowed: true, retryAfterMs: 0, failedOpen: false };
    }
    const { ratePerSecond, burst } = this.limits(partnerId);
    const want = Math.max(1, Math.min(LEASE_MAX, Math.floor(burst / 10)));
    try {
      const [taken, retryAfterMs] = await this.redis.partnerTokenBucket(`partner-rate:${partnerId}`, ratePerSecond, burst, now, want);
      if (taken === 0) return { allowed: false, retryAfterMs, failedOpen: false };
      if (taken > 1) {
        const current = this.leases.get(partnerId);
        const left = current && current.until > now ? current.tokens : 0;
        this.leases.set(partnerId, { tokens: left + taken - 1, until: now + LEASE_MS });
      }
      return { allowed: true, retryAfterMs: 0, failedOpen: false };
    } catch {
      return { allowed: true, retryAfterMs: 0, failedOpen: true };
    }
  }
}
