import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ERROR_STATUS, ErrorCode, SESSION_REVOKED_REASONS } from './domain-error';

/** The error shape. No property examples: each response shows its own codes' examples (ERROR_EXAMPLES). */
export class ErrorResponse {
  @ApiProperty({ description: 'The HTTP status, repeated' })
  statusCode: number;

  @ApiProperty({ enum: Object.keys(ERROR_STATUS), description: 'A machine code: what the route documents for this status' })
  code: string;

  @ApiProperty({ description: 'A sentence for people (it may change; match on `code`)' })
  message: string;

  @ApiPropertyOptional({
    enum: SESSION_REVOKED_REASONS,
    description:
      'With `unauthenticated` only, and only to the holder of the session token it names: Google (Cross-Account Protection) ended that session, and why',
  })
  reason?: string;
}

/**
 * What each code says, as the service words it, for the examples Swagger UI shows. Typed over every
 * ErrorCode: a new code does not compile until it has its example.
 */
export const ERROR_EXAMPLES: Record<ErrorCode, string> = {
  invalid_request: 'The request is not valid',
  unauthenticated: 'Sign in first: send the session cookie or a Bearer session token',
  invalid_id_token: 'The ID token is not a valid Google ID token for this service',
  forbidden: 'This needs the admin role',
  csrf_rejected: 'This request must come from the web app (Origin or Referer not trusted)',
  domain_not_allowed: "This Google account's domain is not allowed to sign in here",
  signup_disabled: 'There is no account for this email, and new sign-ups are disabled',
  email_not_verified: "Google has not verified this account's email address",
  google_account_mismatch: 'This email belongs to a user who signs in with another Google account',
  google_account_disabled: 'Google reported this Google account disabled; sign-in with it is refused until Google enables it again',
  missing_scopes: 'The linked Google account has not granted Calendar access',
  not_found: 'No such route',
  user_not_found: 'No user with that id',
  google_not_linked: 'No Google account is linked',
  webhook_not_found: 'No webhook delivery with that id',
  webhook_not_failed: 'This delivery has not run out of retries (it is delivered, waiting or being attempted)',
  google_reauth_required: 'Google no longer accepts this link: connect the Google account again',
  google_account_in_use: 'This Google account is linked to another user',
  no_offline_access: 'Google gave no refresh token, and none is stored for this Google account',
  request_timeout: 'The request did not arrive in time',
  payload_too_large: 'The request body is too large',
  uri_too_long: 'A part of the URL is too long',
  unsupported_media_type: 'Send the body as application/json',
  headers_too_large: 'The request headers are too large',
  rate_limited: 'Too many requests; slow down and retry later',
  internal_error: 'Something went wrong on our side',
  encryption_key_missing: 'A stored value was encrypted with a key that is no longer configured',
  google_unavailable: 'Google could not be reached; try again shortly',
  service_unavailable: 'The service is temporarily unavailable; try again shortly',
};

/** A status alone stands for its usual code. */
const DEFAULT_CODES: Record<number, ErrorCode[]> = {
  400: ['invalid_request'],
  401: ['unauthenticated'],
  403: ['forbidden'],
  404: ['not_found'],
};

/** Route-specific wording, e.g. `{ invalid_request: 'limit must be a whole number from 1 to 100' }`. */
export type ErrorWording = Partial<Record<ErrorCode, string>>;

/**
 * Documents a route's error responses: statuses, codes (grouped by their status) and, optionally,
 * the route's own wording of a code. Each status gets one example per code, with that code's message.
 */
export function ApiErrors(...errors: Array<number | ErrorCode | ErrorWording>) {
  const wording = errors.reduce<ErrorWording>((all, error) => (typeof error === 'object' ? { ...all, ...error } : all), {});
  const codes = errors.flatMap((error) => (typeof error === 'number' ? (DEFAULT_CODES[error] ?? []) : typeof error === 'string' ? [error] : []));
  const statuses = new Set(errors.filter((error) => typeof error === 'number'));
  const byStatus = new Map<number, ErrorCode[]>([...statuses].map((status) => [status, []]));
  for (const code of new Set(codes)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, statusCodes]) =>
      ApiResponse({
        status,
        type: ErrorResponse,
        description: statusCodes.length ? `code: ${statusCodes.join(' | ')}` : undefined,
        headers:
          status === 429 ? { 'Retry-After': { description: 'Seconds until the limit lets requests through again', schema: { type: 'integer' } } } : undefined,
        examples: Object.fromEntries(
          statusCodes.map((code) => [code, { summary: code, value: { statusCode: status, code, message: wording[code] ?? ERROR_EXAMPLES[code] } }]),
        ),
      }),
    ),
  );
}
