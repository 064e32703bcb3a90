import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:net';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { RATE_LIMIT_KEY_PREFIX, RedisThrottlerStorage } from './redis-throttler.storage';

// Runs against the machine's Redis (CI has one at 127.0.0.1:6379), on a database the e2e suite does not use.
const REDIS_URL = 'redis://127.0.0.1:6379/14';
const TTL_MS = 60_000;

type Hit = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** Records what reaches the per-instance fallback; always lets the request through. */
class LocalDouble implements ThrottlerStorage {
  readonly keys: string[] = [];
  shutDown = false;
  async increment(key: string): Promise<Hit> {
    this.keys.push(key);
    return { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 };
  }
  onApplicationShutdown(): void {
    this.shutDown = true;
  }
}

const uniqueKey = () => `spec:${randomBytes(6).toString('hex')}`;

async function ready(storage: RedisThrottlerStorage): Promise<void> {
  const redis = (storage as unknown as { redis: Redis }).redis;
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

describe('RedisThrottlerStorage', () => {
  const storages: RedisThrottlerStorage[] = [];
  const open = async (url = REDIS_URL, local = new LocalDouble()) => {
    const storage = new RedisThrottlerStorage(url, local);
    storages.push(storage);
    return { storage, local };
  };
  let warn: ReturnType<typeof jest.spyOn>;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await Promise.all(storages.splice(0).map((storage) => storage.onApplicationShutdown()));
    jest.restoreAllMocks();
  });

  it('shares one budget between instances and blocks the first hit over the limit', async () => {
    const [{ storage: a, local }, { storage: b }] = await Promise.all([open(), open()]);
    await Promise.all([ready(a), ready(b)]);
    const key = uniqueKey();

    const hits = [
      await a.increment(key, TTL_MS, 3, TTL_MS, 'default'),
      await b.increment(key, TTL_MS, 3, TTL_MS, 'default'),
      await a.increment(key, TTL_MS, 3, TTL_MS, 'default'),
      await b.increment(key, TTL_MS, 3, TTL_MS, 'default'),
    ];

    expect(hits.map((hit) => [hit.totalHits, hit.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(hits[3].timeToBlockExpire).toBeGreaterThan(55);
    expect(hits[3].timeToBlockExpire).toBeLessThanOrEqual(60);
    expect(hits.slice(0, 3).every((hit) => hit.timeToBlockExpire === 0)).toBe(true);
    expect(local.keys).toEqual([]);
  });

  it('reports the real seconds left of a block, and forgets the count once the window is over', async () => {
    const { storage } = await open();
    await ready(storage);
    const key = uniqueKey();
    await storage.increment(key, 1500, 1, 1500, 'default');

    const blocked = await storage.increment(key, 1500, 1, 1500, 'default');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const stillBlocked = await storage.increment(key, 1500, 1, 1500, 'default');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const afterwards = await storage.increment(key, 1500, 1, 1500, 'default');

    expect(blocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 2 });
    expect(stillBlocked).toMatchObject({ isBlocked: true, timeToBlockExpire: 1 });
    expect(afterwards).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('stores only prefixed keys, each with an expiry', async () => {
    const { storage } = await open();
    await ready(storage);
    const key = uniqueKey();
    const inspector = new Redis(REDIS_URL);

    await storage.increment(key, TTL_MS, 5, TTL_MS, 'default');
    const ttl = await inspector.pttl(RATE_LIMIT_KEY_PREFIX + key);
    await inspector.quit();

    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(TTL_MS);
  });

  it('with Redis unreachable, counts on this instance instead, warning once, without waiting', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server: Server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const { storage, local } = await open(`redis://127.0.0.1:${closedPort}/0`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the first connection attempt fail

    const started = Date.now();
    const hits = await Promise.all([1, 2, 3].map(() => storage.increment('auth:203.0.113.9', TTL_MS, 3, TTL_MS, 'default')));

    expect(Date.now() - started).toBeLessThan(200);
    expect(hits.every((hit) => !hit.isBlocked)).toBe(true);
    expect(local.keys).toEqual(['auth:203.0.113.9', 'auth:203.0.113.9', 'auth:203.0.113.9']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/Redis unavailable/);
  });

  it('quits its connection and shuts the local storage down with the application', async () => {
    const { storage, local } = await open();
    await ready(storage);
    const redis = (storage as unknown as { redis: Redis }).redis;

    const ended = new Promise((resolve) => redis.once('end', resolve));

    await storage.onApplicationShutdown();
    storages.splice(storages.indexOf(storage), 1);
    await ended;

    expect(redis.status).toBe('end');
    expect(local.shutDown).toBe(true);
  });
});
