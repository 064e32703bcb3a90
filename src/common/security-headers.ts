import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';

/** The headers helmet sets for a fixed configuration, lower-cased, computed by running it once. */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Helmet's headers on every answer (404s and errors included), computed once at start-up:
 * @fastify/helmet rebuilds helmet, CSP parsing included, on every request, which cost about a third
 * of the CPU time of GET /health/live (see BENCHMARKS.md). A route may still send its own (the
 * users/me page's stricter CSP).
 */
const API_PREFIX = '/api/v1/';

export function registerSecurityHeaders(fastify: FastifyInstance, options: HelmetOptions): void {
  const headers = helmetHeaders(options);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    // Every API answer (the signed-in user, links, Calendar data, admin lists, sessions, errors) is
    // personal: no shared or browser cache keeps it. A route may still say otherwise.
    if (request.url.startsWith(API_PREFIX)) reply.header('cache-control', 'no-store');
    done();
  });
}
