import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EncryptionKeyMissingError } from '../crypto/token-cipher';
import { DomainError, ErrorBody, ErrorCode, SessionRevokedError } from './domain-error';
import { serializeError } from '../database/database-error';
import { httpLayerError } from './http-layer';

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: 'invalid_request',
  [HttpStatus.UNAUTHORIZED]: 'unauthenticated',
  [HttpStatus.FORBIDDEN]: 'forbidden',
  [HttpStatus.NOT_FOUND]: 'not_found',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'not_found',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'payload_too_large',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'unsupported_media_type',
  [HttpStatus.TOO_MANY_REQUESTS]: 'rate_limited',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'service_unavailable',
};

/**
 * Errors that mean the database is unreachable, shutting down or out of connections, not that we are
 * wrong: network codes, PostgreSQL classes 08 (connection) and 57P (operator intervention), 53300.
 */
const DATABASE_DOWN = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '53300',
  '57P01',
  '57P02',
  '57P03',
]);
const DATABASE_DOWN_MESSAGE =
  /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|not queryable|Client was closed|the database system is (starting up|shutting down)/;

/** Looks through TypeORM's QueryFailedError (driverError) and `cause` chains, a few levels deep. */
function isDatabaseDown(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, driverError, cause } = error as { code?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof code === 'string' && (DATABASE_DOWN.has(code) || code.startsWith('08'))) return true;
  if (error instanceof Error && DATABASE_DOWN_MESSAGE.test(error.message)) return true;
  return isDatabaseDown(driverError, depth + 1) || isDatabaseDown(cause, depth + 1);
}

/** Turns every failure into `{ statusCode, code, message }`, with no internals in the body. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    if (body.statusCode === 429 && !reply.getHeader('retry-after')) reply.header('Retry-After', '60');
    reply.status(body.statusCode).header('cache-control', 'no-store').send(body);
  }

  toBody(exception: unknown): ErrorBody {
    if (exception instanceof SessionRevokedError) {
      return { statusCode: exception.status, code: exception.code, message: exception.message, reason: exception.revokedReason };
    }
    if (exception instanceof DomainError) {
      return { statusCode: exception.status, code: exception.code, message: exception.message };
    }
    if (exception instanceof EncryptionKeyMissingError) {
      this.logger.error({ keyId: exception.keyId }, `Encrypted value sealed with unknown key id ${exception.keyId}`);
      return { statusCode: 500, code: 'encryption_key_missing', message: 'A stored value was encrypted with a key that is no longer configured' };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const code = STATUS_CODES[statusCode] ?? (statusCode >= 500 ? 'internal_error' : 'invalid_request');
      return { statusCode, code, message: this.messageOf(exception, code) };
    }
    // Fastify's own refusals: malformed JSON, oversized bodies, unsupported content types.
    const httpLayer = httpLayerError(exception);
    if (httpLayer) return httpLayer;
    if (isDatabaseDown(exception)) {
      this.logger.error({ err: serializeError(exception) }, 'Database unavailable');
      return { statusCode: 503, code: 'service_unavailable', message: 'The service is temporarily unavailable; try again shortly' };
    }
    this.logger.error({ err: serializeError(exception) }, 'Unexpected failure');
    return { statusCode: 500, code: 'internal_error', message: 'Something went wrong on our side' };
  }

  private messageOf(exception: unknown, code: ErrorCode): string {
    if (code === 'not_found') return 'No such route';
    if (code === 'rate_limited') return 'Too many requests; slow down and retry later';
    if (code === 'payload_too_large') return 'The request body is too large';
    if (code === 'unsupported_media_type') return 'Send the body as application/json';
    const response = exception instanceof HttpException ? exception.getResponse() : undefined;
    const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    if (Array.isArray(message)) return String(message[0]);
    return typeof message === 'string' && message.length < 200 ? message : 'The request is not valid';
  }
}
