import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * /metrics tells whoever reads it how the service is used and failing: with METRICS_TOKEN set it
 * needs `Authorization: Bearer <METRICS_TOKEN>`; in production without one it is not served at all.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  // Compared as digests, in constant time: equal lengths, and nothing learnt from timing.
  private readonly expected: Buffer | undefined;

  constructor(private readonly config: AppConfig) {
    this.expected = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      if (this.config.production) throw new DomainError('not_found', 'No such route');
      return true;
    }
    const http = context.switchToHttp();
    const presented = /^Bearer (\S+)$/.exec(http.getRequest<FastifyRequest>().headers.authorization ?? '')?.[1];
    if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) return true;
    http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="metrics"');
    throw new DomainError('unauthenticated', 'Send Authorization: Bearer <METRICS_TOKEN>');
  }
}
