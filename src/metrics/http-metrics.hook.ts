import type { FastifyInstance } from 'fastify';
import { MetricsService } from './metrics.service';

export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every answer, including 404s, guard refusals and Fastify's own errors, which a Nest
 * interceptor would miss. Labels use the route template (`/api/v1/admin/users/:id/google`),
 * never the raw URL, so ids and query strings cannot multiply the series. A callback hook, not an
 * async one: it runs on every request and costs no promise.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: MetricsService): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}
