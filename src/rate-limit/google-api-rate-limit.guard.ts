import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { DomainError } from '../common/domain-error';
import type { AppRequest } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { GOOGLE_API_KEY_PREFIX, RATE_LIMIT_WINDOW_MS } from './rate-limit.constants';

/**
 * GOOGLE_API_RATE_LIMIT: one budget per user (the session's user id, not the address) across the
 * routes that call Google for that user, in the auth limit's storage (Redis when REDIS_URL is set).
 * A controller guard, so it runs after the global session guard: the user is known, and a request
 * refused there (401) spends nothing. A refused request never reaches Google.
 */
@Injectable()
export class GoogleApiRateLimitGuard implements CanActivate {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const principal = http.getRequest<AppRequest>().principal;
    if (!principal) throw new DomainError('unauthenticated', 'Sign in first');
    const limit = this.config.googleApiRateLimit;
    const hit = await this.storage.increment(GOOGLE_API_KEY_PREFIX + principal.userId, RATE_LIMIT_WINDOW_MS, limit, RATE_LIMIT_WINDOW_MS, 'default');
    const reply = http.getResponse<FastifyReply>();
    if (hit.isBlocked) {
      reply.header('Retry-After', hit.timeToBlockExpire);
      throw new DomainError('rate_limited', 'Too many requests to Google for this user; retry after the Retry-After seconds');
    }
    reply.header('X-RateLimit-Limit', limit);
    reply.header('X-RateLimit-Remaining', Math.max(0, limit - hit.totalHits));
    reply.header('X-RateLimit-Reset', hit.timeToExpire);
    return true;
  }
}

/** Counts the route against the caller's GOOGLE_API_RATE_LIMIT budget (declare 'rate_limited' in its @ApiErrors). */
export const GoogleApiRateLimited = () => applyDecorators(UseGuards(GoogleApiRateLimitGuard));
