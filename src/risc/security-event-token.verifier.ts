import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from 'jose';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { RiscRefusal } from './risc-refusal';

/** An `iat` this far ahead of our clock is still taken as "now" (clocks drift); beyond it, refused. */
const CLOCK_TOLERANCE_SECONDS = 60;
const MAX_JTI_LENGTH = 255;

export interface SecurityEventToken {
  jti: string;
  /** Event type URI → its payload (an object), as RFC 8417 §2.2 defines `events`. */
  events: Record<string, Record<string, unknown>>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Verifies a Cross-Account Protection SET: RS256 only (never `none`, never an HMAC keyed by the
 * public key), a key of GOOGLE_RISC_JWKS_URL, `iss`, `aud` among the accepted client ids, `iat` not
 * in the future, a `jti`, and a non-empty `events` object. Refusals carry RFC 8935's codes.
 */
@Injectable()
export class SecurityEventTokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: AppConfig) {
    this.keys = createRemoteJWKSet(new URL(config.google.riscJwksUrl), { timeoutDuration: config.google.httpTimeoutMs });
  }

  async verify(token: string): Promise<SecurityEventToken> {
    const { issuer, audiences } = { issuer: this.config.google.riscIssuer, audiences: this.config.google.audiences };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, { algorithms: ['RS256'], issuer, audience: audiences, clockTolerance: CLOCK_TOLERANCE_SECONDS }));
    } catch (error) {
      throw this.refusalFor(error);
    }
    return this.checkClaims(payload);
  }

  private checkClaims(payload: JWTPayload): SecurityEventToken {
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== 'number') throw new RiscRefusal('invalid_request', 'The SET has no iat');
    if (payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw new RiscRefusal('invalid_request', 'The SET is issued in the future (iat)');
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > MAX_JTI_LENGTH) {
      throw new RiscRefusal('invalid_request', `The SET has no jti (a string of at most ${MAX_JTI_LENGTH} characters)`);
    }
    const events = payload.events;
    if (!isObject(events) || Object.keys(events).length === 0 || !Object.values(events).every(isObject)) {
      throw new RiscRefusal('invalid_request', 'The SET has no events object (event type URI → payload object)');
    }
    return { jti: payload.jti, events: events as Record<string, Record<string, unknown>> };
  }

  private refusalFor(error: unknown): Error {
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return new RiscRefusal('invalid_issuer', 'The SET was not issued by Google Cross-Account Protection');
      if (error.claim === 'aud') return new RiscRefusal('invalid_audience', "The SET's audience is not one of this service's client ids");
      return new RiscRefusal('invalid_request', `The SET's ${error.claim} claim is not valid`);
    }
    if (
      error instanceof errors.JOSEAlgNotAllowed ||
      error instanceof errors.JWKSNoMatchingKey ||
      error instanceof errors.JWKSMultipleMatchingKeys ||
      error instanceof errors.JWSSignatureVerificationFailed
    ) {
      return new RiscRefusal('invalid_key', 'The SET is not signed (RS256) by a key of Google Cross-Account Protection');
    }
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
      return new RiscRefusal('invalid_request', 'The body is not a signed JWT');
    }
    // The keys could not be fetched: our failure, not the SET's. A 5xx makes Google deliver it again.
    return new DomainError('google_unavailable', "Google's signing keys could not be fetched; deliver the SET again later");
  }
}
