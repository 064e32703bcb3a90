import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from 'jose';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { GoogleUnavailableError, InvalidIdTokenError } from './google-errors';

export interface GoogleIdentity {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  hd: string | null;
}

const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Verifies Google ID tokens: RS256 signature against GOOGLE_JWKS_URL (cached; refetched when an
 * unknown `kid` appears, at most every 30 s), issuer, audience, expiry and, when given, the nonce.
 */
@Injectable()
export class GoogleIdTokenVerifier {
  private readonly jwks;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.jwks = createRemoteJWKSet(new URL(config.google.jwksUrl), {
      timeoutDuration: config.google.httpTimeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  }

  async verify(idToken: string, expected: { audiences?: string[]; nonce?: string }): Promise<GoogleIdentity> {
    if (typeof idToken !== 'string' || idToken.length > 8192 || idToken.split('.').length !== 3) {
      throw new InvalidIdTokenError('not a JWT');
    }
    const payload = await this.verifySignature(idToken, expected.audiences ?? [this.config.google.clientId]);
    if (expected.nonce !== undefined && payload.nonce !== expected.nonce) throw new InvalidIdTokenError('nonce mismatch');
    if (typeof payload.sub !== 'string' || !payload.sub || typeof payload.email !== 'string' || !payload.email) {
      throw new InvalidIdTokenError('sub or email missing');
    }
    return {
      sub: payload.sub,
      email: payload.email,
      emailVerified: payload.email_verified === true || payload.email_verified === 'true',
      name: typeof payload.name === 'string' ? payload.name : null,
      hd: typeof payload.hd === 'string' ? payload.hd : null,
    };
  }

  private async verifySignature(idToken: string, audiences: string[]): Promise<JWTPayload & Record<string, unknown>> {
    const started = performance.now();
    try {
      const { payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.config.google.issuers,
        audience: audiences,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWKSTimeout) {
        this.metrics.googleCall('jwks', 'timeout', (performance.now() - started) / 1000);
        throw new GoogleUnavailableError('jwks', 'timeout');
      }
      if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSInvalid) && error.code !== 'ERR_JOSE_GENERIC') {
        throw new InvalidIdTokenError(error.code);
      }
      if (error instanceof errors.JOSEError || error instanceof TypeError) {
        // The key set could not be fetched or parsed: Google's side, not the token's.
        this.metrics.googleCall('jwks', 'error', (performance.now() - started) / 1000);
        throw new GoogleUnavailableError('jwks', 'the key set could not be loaded');
      }
      throw new InvalidIdTokenError('malformed');
    }
  }
}
