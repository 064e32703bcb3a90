import { HttpStatus } from '@nestjs/common';

/** Every machine code an API error can carry, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  invalid_request: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  invalid_id_token: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  csrf_rejected: HttpStatus.FORBIDDEN,
  domain_not_allowed: HttpStatus.FORBIDDEN,
  signup_disabled: HttpStatus.FORBIDDEN,
  email_not_verified: HttpStatus.FORBIDDEN,
  google_account_mismatch: HttpStatus.FORBIDDEN,
  google_account_disabled: HttpStatus.FORBIDDEN,
  missing_scopes: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  user_not_found: HttpStatus.NOT_FOUND,
  google_not_linked: HttpStatus.NOT_FOUND,
  webhook_not_found: HttpStatus.NOT_FOUND,
  webhook_not_failed: HttpStatus.CONFLICT,
  google_reauth_required: HttpStatus.CONFLICT,
  // Link refusals: today only callback reasons (google_link=error&reason=…), never an HTTP answer.
  google_account_in_use: HttpStatus.CONFLICT,
  no_offline_access: HttpStatus.FORBIDDEN,
  // The HTTP layer's own refusals (a stalled client, an over-long URL or headers), before any route runs.
  request_timeout: HttpStatus.REQUEST_TIMEOUT,
  payload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  uri_too_long: HttpStatus.URI_TOO_LONG,
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  headers_too_large: 431, // Request Header Fields Too Large: not in Nest's HttpStatus
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  internal_error: HttpStatus.INTERNAL_SERVER_ERROR,
  encryption_key_missing: HttpStatus.INTERNAL_SERVER_ERROR,
  google_unavailable: HttpStatus.BAD_GATEWAY,
  service_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure the API reports as `{ statusCode, code, message }`; services throw these, one filter maps them. */
export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A refusal by the service's own rules (sign-in, linking): its code is the reason, with that reason's sentence. */
export abstract class RefusedError<Reason extends ErrorCode> extends DomainError {
  protected constructor(
    readonly reason: Reason,
    messages: Record<Reason, string>,
  ) {
    super(reason, messages[reason]);
  }
}

/** Why Google (Cross-Account Protection) ended a session: what a 401 for that session's token says. */
export const SESSION_REVOKED_REASONS = ['google_sessions_revoked', 'google_tokens_revoked', 'google_account_disabled'] as const;
export type SessionRevokedReason = (typeof SESSION_REVOKED_REASONS)[number];

/** `unauthenticated` for a session Google ended, with the reason: only ever sent to a holder of that session's token. */
export class SessionRevokedError extends DomainError {
  constructor(
    readonly revokedReason: SessionRevokedReason,
    message: string,
  ) {
    super('unauthenticated', message);
  }
}

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  /** With `unauthenticated` only: why Google ended the session the request presented. */
  reason?: SessionRevokedReason;
}
