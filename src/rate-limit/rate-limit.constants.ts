/** Every rate limit counts requests per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** GOOGLE_API_RATE_LIMIT's counters: this prefix and the user id. */
export const GOOGLE_API_KEY_PREFIX = 'google-api:';
