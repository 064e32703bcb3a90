import { Injectable, Logger } from '@nestjs/common';
import { DomainError, ErrorCode } from '../../common/domain-error';
import { asciiLowerCase } from '../../common/email-address';
import { AppConfig } from '../../config/app-config';
import { googleDomainError, InvalidIdTokenError } from '../../google/google-errors';
import { GoogleIdentity, GoogleIdTokenVerifier } from '../../google/google-id-token.verifier';
import { MetricsService } from '../../metrics/metrics.service';
import { GoogleAccountBlocksService } from '../../risc/google-account-blocks.service';
import { AuditService } from '../../users/audit.service';
import { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import type { ConsumedOutcome, SignInAnswer, SignInFailure } from '../google-oauth/callback-outcome';
import { IssuedSession, SessionsService } from '../sessions/sessions.service';
import { SignInRefusedError } from './sign-in-refused.error';
import { serializeError } from '../../database/database-error';

/** The refusals a sign-in callback names as its reason; any other failure is google_error. */
const REFUSALS = new Set<ErrorCode>([
  'domain_not_allowed',
  'signup_disabled',
  'email_not_verified',
  'invalid_id_token',
  'google_account_mismatch',
  'google_account_disabled',
]);

/**
 * Sign-in with Google, from a browser (the callback) or a native client (the ID-token exchange).
 * A verified identity signs in as the user with that Google `sub`; else the user with that verified
 * email, unless that user is bound to another `sub` (an email is not an identity: Google may give it
 * to another account); else, when allowed, a new user. Success is a new session, which replaces the
 * one the browser held.
 */
@Injectable()
export class SignInService {
  private readonly logger = new Logger(SignInService.name);

  constructor(
    private readonly idTokens: GoogleIdTokenVerifier,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly blocks: GoogleAccountBlocksService,
  ) {}

  /** The browser flow's end: always an answer, never a throw. */
  async completeCallback(outcome: ConsumedOutcome): Promise<SignInAnswer> {
    if (outcome.kind === 'denied') return { flow: 'login', reason: 'access_denied' };
    if (outcome.kind === 'google_failed') return { flow: 'login', reason: 'google_error' };
    const { grant, state } = outcome;
    try {
      if (!grant.idToken) throw new InvalidIdTokenError('no ID token in the token response');
      const identity = await this.idTokens.verify(grant.idToken, { nonce: state.nonce });
      const session = await this.sessions.replace(outcome.browserSessionId, (await this.userFor(identity)).id);
      return { flow: 'login', reason: 'success', session, nextPath: state.nextPath };
    } catch (error) {
      return { flow: 'login', reason: this.failureOf(error) };
    }
  }

  /** POST /api/v1/auth/google/token: the same identity checks, any configured audience. */
  async exchangeIdToken(idToken: string): Promise<IssuedSession> {
    try {
      const identity = await this.idTokens.verify(idToken, { audiences: this.config.google.audiences });
      const session = await this.sessions.create((await this.userFor(identity)).id);
      this.metrics.loginOutcome('success');
      return session;
    } catch (error) {
      this.metrics.loginOutcome(this.failureOf(error));
      throw googleDomainError(error) ?? error;
    }
  }

  private async userFor(identity: GoogleIdentity): Promise<User> {
    // Cross-Account Protection: Google said this account is disabled (maybe hijacked).
    if (await this.blocks.isDisabled(identity.sub)) throw new SignInRefusedError('google_account_disabled');
    if (!identity.emailVerified) throw new SignInRefusedError('email_not_verified');
    if (!this.domainAllowed(identity)) throw new SignInRefusedError('domain_not_allowed');
    const user = (await this.users.findByGoogleSub(identity.sub)) ?? (await this.users.findByEmail(identity.email)) ?? (await this.signUp(identity));
    if (user.googleSub === identity.sub || (await this.users.bindGoogleSub(user.id, identity.sub))) return user;
    await this.audit.record({ action: 'google.account_mismatch', userId: user.id, actorId: null, googleUserId: identity.sub });
    throw new SignInRefusedError('google_account_mismatch');
  }

  /** A new user; one created meanwhile with that email is returned instead, and bound like any other. */
  private async signUp(identity: GoogleIdentity): Promise<User> {
    if (!this.config.google.autoCreateUsers) throw new SignInRefusedError('signup_disabled');
    return (await this.users.createOrPromote({ email: identity.email, name: identity.name, googleSub: identity.sub })).user;
  }

  /** Exact matches only: `gmail.com` does not admit `mail.com` or `evilgmail.com`. */
  private domainAllowed(identity: GoogleIdentity): boolean {
    const allowed = this.config.google.allowedDomains;
    if (allowed.length === 0) return true;
    const domain = asciiLowerCase(identity.email.slice(identity.email.lastIndexOf('@') + 1));
    if (!allowed.includes(domain)) return false;
    return identity.hd === null || allowed.includes(asciiLowerCase(identity.hd));
  }

  /** A refusal names itself; Google's failures are google_error; anything else is unexpected, and logged. */
  private failureOf(error: unknown): SignInFailure {
    const known = error instanceof DomainError ? error : googleDomainError(error);
    if (known && REFUSALS.has(known.code)) return known.code as SignInFailure;
    if (!known) this.logger.error({ err: serializeError(error) }, 'Sign-in failed unexpectedly');
    return 'google_error';
  }
}
