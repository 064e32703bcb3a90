import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerModuleOptions, ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AuthRateLimitGuard } from './auth-rate-limit.guard';
import { GoogleApiRateLimitGuard } from './google-api-rate-limit.guard';
import { RATE_LIMIT_WINDOW_MS } from './rate-limit.constants';
import { RedisThrottlerStorage } from './redis-throttler.storage';

function rateLimitOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    // Unnamed ("default"), so the headers are the standard Retry-After and X-RateLimit-*.
    throttlers: [{ ttl: RATE_LIMIT_WINDOW_MS, limit: config.authRateLimit }],
    // Nest runs the storage's onApplicationShutdown, which quits the Redis connection.
    storage: config.redisUrl ? new RedisThrottlerStorage(config.redisUrl, new ThrottlerStorageService()) : new ThrottlerStorageService(),
  };
}

/**
 * Import before any module that registers the session guard: global guards run in registration
 * order, and refused (401) auth requests must count against the limit too. Modules whose routes use
 * @GoogleApiRateLimited() import it as well, for the shared storage.
 */
@Module({
  imports: [ThrottlerModule.forRootAsync({ inject: [AppConfig], useFactory: rateLimitOptions })],
  providers: [{ provide: APP_GUARD, useClass: AuthRateLimitGuard }, GoogleApiRateLimitGuard],
  exports: [ThrottlerModule, GoogleApiRateLimitGuard],
})
export class RateLimitModule {}
