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
