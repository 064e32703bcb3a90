import { Logger, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
type LocalStorage = ThrottlerStorage & Partial<OnApplicationShutdown>;

export const RATE_LIMIT_KEY_PREFIX = 'google-link:rate-limit:';

/**
 * One round trip, atomic across instances: count the hit, start the window on the first one, and
 * on the first hit over the limit restart the expiry as the block. Returns [hits, ms to expiry].
 */
const HIT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
elseif hits == tonumber(ARGV[2]) + 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}`;

interface HitCommand {
  rateLimitHit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<[number, number]>;
}

// An auth request must never wait on a slow or absent Redis: fail fast, then count locally.
const COMMAND_TIMEOUT_MS = 500;
const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * Rate-limit counters shared by every instance through Redis. When Redis is unreachable the
 * service keeps serving: hits are counted by `local` (this instance only) until Redis is back,
 * with one warning per outage rather than one per request.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis & HitCommand;
  private degraded = false;

  constructor(
    redisUrl: string,
    private readonly local: LocalStorage,
  ) {
    this.redis = new Redis(redisUrl, {
      enableOfflineQueue: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
      // Shutdown does not linger on a socket that is already half gone (ioredis waits 2s by default).
      disconnectTimeout: 200,
    }) as Redis & HitCommand;
    this.redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis.on('error', (error: Error) => this.degrade(error));
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (this.redis.status === 'ready') {
      try {
        const [hits, remainingMs] = await this.redis.rateLimitHit(RATE_LIMIT_KEY_PREFIX + key, ttl, limit, blockDuration);
        const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
        const isBlocked = hits > limit;
        if (this.degraded) this.recover();
        return { totalHits: hits, timeToExpire: seconds, isBlocked, timeToBlockExpire: isBlocked ? seconds : 0 };
      } catch (error) {
        this.degrade(error as Error);
      }
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  async onApplicationShutdown(): Promise<void> {
    this.local.onApplicationShutdown?.();
    if (this.redis.status === 'ready') {
      await this.redis.quit().catch(() => this.redis.disconnect());
    } else {
      this.redis.disconnect();
    }
  }

  private recover(): void {
    this.degraded = false;
    this.logger.log('Redis is reachable again: rate-limit counters are shared again');
  }

  private degrade(error: Error): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(`Redis unavailable (${error.message}): counting rate limits on this instance only until it is back`);
  }
}
