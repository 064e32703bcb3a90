import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

export const RATE_LIMITED_PREFIX = '/api/v1/auth/';

/**
 * AUTH_RATE_LIMIT applies to the /api/v1/auth/* routes only, as one budget per client address
 * across all of them (the stock guard keeps one per handler). `request.ip` already honours
 * TRUST_PROXY, as Fastify's trustProxy is set from it.
 */
@Injectable()
export class AuthRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const route = context.switchToHttp().getRequest<FastifyRequest>().routeOptions.url;
    return route === undefined || !route.startsWith(RATE_LIMITED_PREFIX);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return `auth:${tracker}`;
  }
}
