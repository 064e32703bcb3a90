import { DomainError } from '../common/domain-error';
import type { GoogleEndpoint } from '../metrics/metrics.service';

/** Google could not be used: a timeout, a network failure, a 5xx or 429, or an answer that is not what Google sends. */
export class GoogleUnavailableError extends Error {
  override name = 'GoogleUnavailableError';
  constructor(
    readonly endpoint: GoogleEndpoint,
    readonly reason: string,
  ) {
    super(`Google ${endpoint} unavailable: ${reason}`);
  }
}

/** Google answered, and refused: `error` is its OAuth error code (invalid_grant, invalid_token, …) or the HTTP status. */
export class GoogleRejectedError extends Error {
  override name = 'GoogleRejectedError';
  constructor(
    readonly endpoint: GoogleEndpoint,
    readonly status: number,
    readonly error: string,
  ) {
    super(`Google ${endpoint} refused (${status} ${error})`);
  }
}

/** An ID token that is not a valid Google ID token for us (signature, issuer, audience, expiry, nonce, claims). */
export class InvalidIdTokenError extends Error {
  override name = 'InvalidIdTokenError';
}

const UNREACHABLE: Record<GoogleEndpoint, string> = {
  token: 'Google could not be reached; try again shortly',
  refresh: 'Google could not be reached; try again shortly',
  userinfo: 'Google could not be reached; try again shortly',
  revoke: 'Google could not be reached; try again shortly',
  jwks: 'Google could not be reached to check the ID token',
  calendar: 'Google Calendar could not be reached; try again shortly',
};

/**
 * The one translation of Google's failures into the API's errors: a bad ID token is 401
 * invalid_id_token, Calendar refusing the token's scopes (403) is missing_scopes, any other failure
 * of Google's is 502 google_unavailable. Null for anything that is not Google's failure, for the
 * caller to rethrow as it is. Rules that need more (an `invalid_grant` on refresh means re-consent)
 * are decided by the caller first.
 */
export function googleDomainError(error: unknown): DomainError | null {
  if (error instanceof InvalidIdTokenError) return new DomainError('invalid_id_token', 'The ID token is not a valid Google ID token for this service');
  if (error instanceof GoogleRejectedError && error.endpoint === 'calendar' && error.status === 403) {
    return new DomainError('missing_scopes', 'The linked Google account has not granted Calendar access');
  }
  if (error instanceof GoogleUnavailableError || error instanceof GoogleRejectedError) {
    return new DomainError('google_unavailable', UNREACHABLE[error.endpoint]);
  }
  return null;
}
