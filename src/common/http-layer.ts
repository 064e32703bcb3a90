import type { Socket } from 'node:net';
import type { FastifyError, FastifyHttpOptions, FastifyReply } from 'fastify';
import type { Server } from 'node:http';
import { ErrorBody, ErrorCode } from './domain-error';

/**
 * The HTTP layer's own refusals (Node's parser, Fastify's router and body parsers), in the
 * `{ statusCode, code, message }` shape: they happen before any Nest filter can see the request.
 */

/** How often Node looks for requests over their time limit; a stalled client lasts at most limit + this. */
const CHECK_INTERVAL_MS = 1000;

/**
 * Node's time limits: the whole request (headers and body) within `limitMs`, an idle keep-alive
 * connection closed after it. Fastify leaves requestTimeout off and keeps idle connections 72 s;
 * Node checks only every 30 s unless told otherwise.
 */
export function requestTimeLimits(limitMs: number): Pick<FastifyHttpOptions<Server>, 'requestTimeout' | 'keepAliveTimeout' | 'http'> {
  return {
    requestTimeout: limitMs,
    keepAliveTimeout: limitMs,
    http: { requestTimeout: limitMs, headersTimeout: limitMs, connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, limitMs) },
  };
}

const MESSAGES: Partial<Record<string, [number, ErrorCode, string]>> = {
  FST_ERR_BAD_URL: [400, 'invalid_request', 'The URL is not valid (malformed percent-encoding)'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'A part of the URL is too long'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request', 'The JSON body is empty'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'Content-Length does not match the body'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json'],
};

const STATUS_CODES: Partial<Record<number, [ErrorCode, string]>> = {
  401: ['unauthenticated', 'Sign in first: send the session cookie or a Bearer session token'],
  403: ['forbidden', 'This is not allowed'],
  404: ['not_found', 'No such route'],
  405: ['not_found', 'No such route'],
  408: ['request_timeout', 'The request did not arrive in time'],
  413: ['payload_too_large', 'The request body is too large'],
  414: ['uri_too_long', 'The URL is too long'],
  415: ['unsupported_media_type', 'Send the body as application/json'],
  429: ['rate_limited', 'Too many requests; slow down and retry later'],
  431: ['headers_too_large', 'The request headers are too large'],
};

/**
 * Our answer to an error Fastify raised (FST_ERR_*, or a body parser's SyntaxError with a 4xx
 * statusCode); undefined when it is not one. Its code and wording are ours, never Fastify's.
 */
export function httpLayerError(error: unknown): ErrorBody | undefined {
  const { code, statusCode } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; statusCode?: unknown };
  const known = typeof code === 'string' ? MESSAGES[code] : undefined;
  if (known) return { statusCode: known[0], code: known[1], message: known[2] };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  const [errorCode, message] = STATUS_CODES[statusCode] ?? ['invalid_request', 'The request body is not valid'];
  return { statusCode, code: errorCode, message };
}

/** Fastify's `frameworkErrors`: the router's refusals (bad URL, over-long parameter), with the security headers. */
export function frameworkErrorAnswer(headers: Record<string, string>) {
  return (error: FastifyError, _request: unknown, reply: FastifyReply): void => {
    const body = httpLayerError(error) ?? { statusCode: 400, code: 'invalid_request', message: 'The request is not valid' };
    void reply.status(body.statusCode).headers(headers).header('cache-control', 'no-store').send(body);
  };
}

const CLIENT_ERRORS: Record<string, [ErrorBody, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [{ statusCode: 408, code: 'request_timeout', message: 'The request did not arrive in time' }, 'Request Timeout'],
  HPE_HEADER_OVERFLOW: [{ statusCode: 431, code: 'headers_too_large', message: 'The request headers are too large' }, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [{ statusCode: 413, code: 'payload_too_large', message: 'The chunk extensions are too large' }, 'Payload Too Large'],
  default: [{ statusCode: 400, code: 'invalid_request', message: 'The request is not valid HTTP' }, 'Bad Request'],
};

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (time limit, oversized headers,
 * malformed request line or chunked body, conflicting lengths), answered on the raw socket, which is
 * then closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [body, reason] = CLIENT_ERRORS[error.code ?? ''] ?? CLIENT_ERRORS.default;
  const json = JSON.stringify(body);
  // As Node does: once an answer to this socket's request has begun, a second one would be read as
  // the answer to the client's next request. Fastify's default handler writes it anyway.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroy();
}
