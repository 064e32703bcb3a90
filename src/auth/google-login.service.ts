import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { GoogleUnavailableError } from '../google/google-errors';
import { GoogleIdTokenVerifier, InvalidIdTokenError } from '../google/google-id-token.verifier';
import { MetricsService } from '../metrics/metrics.service';
import { GoogleSignInService, SignInRefusal, SignInRefusedError } from './google-sign-in.service';
import { CallbackResult } from './oauth-flow';
import { ConsumedState } from './oauth-states.service';
import { IssuedSession, SessionsService } from './sessions.service';

export type LoginFailure = SignInRefusal | 'access_denied' | 'invalid_state' | 'invalid_id_token' | 'google_error';

export type LoginOutcome = { ok: true; session: IssuedSession; nextPath: string | null } | { ok: false; reason: LoginFailure };

/** Sign-in with Google: the callback flow for browsers and the ID-token exchange for native clients. */
@Injectable()
export class GoogleLoginService {
  private readonly logger = new Logger(GoogleLoginService.name);

  constructor(
    private readonly idTokens: GoogleIdTokenVerifier,
    private readonly signIn: GoogleSignInService,
    private readonly sessions: SessionsService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  async completeCallback(state: ConsumedState, result: CallbackResult): Promise<LoginOutcome> {
    const outcome = await this.callbackOutcome(state, result);
    this.metrics.loginOutcome(outcome.ok ? 'success' : outcome.reason);
    return outcome;
  }

  /** POST /api/v1/auth/google/token: the same identity checks, any configured audience. */
  async exchange(idToken: string): Promise<IssuedSession> {
    try {
      const identity = await this.idTokens.verify(idToken, { audiences: this.config.google.audiences });
      const user = await this.signIn.resolveUser(identity);
      const session = await this.sessions.create(user.id);
      this.metrics.loginOutcome('success');
      return session;
    } catch (error) {
      const failure = this.failureOf(error);
      this.metrics.loginOutcome(failure);
      if (error instanceof SignInRefusedError) throw error;
      if (failure === 'invalid_id_token') throw new DomainError('invalid_id_token', 'The ID token is not a valid Google ID token for this service');
      if (error instanceof GoogleUnavailableError) throw new DomainError('google_unavailable', 'Google could not be reached to check the ID token');
      throw error;
    }
  }

  private async callbackOutcome(state: ConsumedState, result: CallbackResult): Promise<LoginOutcome> {
    if (result.kind === 'denied') return { ok: false, reason: 'access_denied' };
    if (result.kind !== 'grant') return { ok: false, reason: 'google_error' };
    try {
      if (!result.grant.idToken) throw new InvalidIdTokenError('no ID token in the token response');
      const identity = await this.idTokens.verify(result.grant.idToken, { nonce: state.nonce });
      const user = await this.signIn.resolveUser(identity);
      return { ok: true, session: await this.sessions.create(user.id), nextPath: state.nextPath };
    } catch (error) {
      return { ok: false, reason: this.failureOf(error) };
    }
  }

  private failureOf(error: unknown): LoginFailure {
    if (error instanceof SignInRefusedError) return error.reason;
    if (error instanceof InvalidIdTokenError) return 'invalid_id_token';
    if (!(error instanceof GoogleUnavailableError)) this.logger.error({ err: error }, 'Sign-in failed unexpectedly');
    return 'google_error';
  }
}
