/**
 * How long a retry pass holds the one row it is sending: one call to Google (cut at
 * GOOGLE_HTTP_TIMEOUT_MS) and two statements, twice over. An instance killed mid-send delays that
 * revocation by this much, not by the whole pass; a second send after the lease is harmless (Google
 * answers an already revoked token 400, which counts as done).
 */
export function revocationLeaseSeconds(httpTimeoutMs: number): number {
  return Math.ceil((2 * httpTimeoutMs) / 1000) + 5;
}
