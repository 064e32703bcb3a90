import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { serializeError } from '../database/database-error';

/** Query parameters that carry secrets in OAuth redirects; their values never reach a log line. */
const SECRET_PARAMS = /([?&](?:code|state|id_token|access_token|refresh_token|token|code_verifier|client_secret)=)[^&#]*/gi;

export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(SECRET_PARAMS, '$1[Redacted]');
}

/**
 * Probed and scraped every few seconds: a line each would drown the log, so the request logger
 * does not even run for them (pino-http was a seventh of a probe's CPU in a profile, BENCHMARKS.md).
 */
const UNLOGGED_ROUTES = [
  { path: 'health/live', method: RequestMethod.GET },
  { path: 'metrics', method: RequestMethod.GET },
];

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.codeVerifier',
  '*.password',
  '*.key',
];

/** A caller's X-Request-Id when it is sane, else a fresh UUID; Fastify hands it to every log line of the request. */
export function requestId(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

/** pino's serialized error keeps what was logged as a non-enumerable `raw`. */
function rawError(error: unknown): unknown {
  const raw = typeof error === 'object' && error !== null ? (error as { raw?: unknown }).raw : undefined;
  return raw ?? error;
}

export function loggerParams(config: AppConfig, stream?: DestinationStream): Params {
  const options: Params['pinoHttp'] = {
    level: config.logLevel,
    transport: config.logFormat === 'pretty' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    serializers: {
      req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: request.id,
        method: request.method,
        url: redactUrl(request.url),
      }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      // pino-http hands its custom serializer pino's own form of the error; the original is its `raw`.
      err: (error: unknown) => serializeError(rawError(error)),
    },
  };
  // nestjs-pino's default route pattern ('{/*splat}') matches nothing under Nest 12's Fastify adapter.
  return { pinoHttp: stream ? [options, stream] : options, forRoutes: [{ path: '/{*splat}', method: RequestMethod.ALL }], exclude: UNLOGGED_ROUTES };
}
