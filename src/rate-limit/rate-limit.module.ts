import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerModuleOptions, ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AuthRateLimitGuard } from './auth-rate-limit.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';

const WINDOW_MS = 60_000;

function rateLimitOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    // Unnamed ("default"), so the headers are the standard Retry-After and X-RateLimit-*.
    throttlers: [{ ttl: WINDOW_MS, limit: config.authRateLimit }],
    // Nest runs the storage's onApplicationShutdown, which quits the Redis connection.
    storage: config.redisUrl ? new RedisThrottlerStorage(config.redisUrl, new ThrottlerStorageService()) : new ThrottlerStorageService(),
  };
}

/**
 * Import before any module that registers the session guard: global guards run in registration
 * order, and refused (401) auth requests must count against the limit too.
 */
@Module({
  imports: [ThrottlerModule.forRootAsync({ inject: [AppConfig], useFactory: rateLimitOptions })],
  providers: [{ provide: APP_GUARD, useClass: AuthRateLimitGuard }],
})
export class RateLimitModule {}
