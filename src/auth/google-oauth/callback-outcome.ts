import type { FastifyReply } from 'fastify';
import type { AppConfig } from '../../config/app-config';
import { setSessionCookie } from '../sessions/session-cookie';
import type { IssuedSession } from '../sessions/sessions.service';
import type { OAuthPurpose } from './oauth-state.entity';
import type { ConsumedState, StateProblem } from './oauth-state.store';

/** What Google's token endpoint granted, as the strategy hands it on. */
export interface GoogleGrant {
  accessToken: string;
  refreshToken: string | undefined;
  expiresIn: number;
  scope: string;
  idToken: string | undefined;
}

/**
 * What a callback brought back, decided once, by StateTokenGuard. An unusable state names the flow
 * it answers in: its own purpose when it named a real flow, else where the browser's session points.
 * A grant carries the session the browser already held, if any: a sign-in replaces it.
 */
export type CallbackOutcome =
  | { kind: 'invalid_state'; flow: OAuthPurpose; problem: StateProblem }
  | { kind: 'denied'; state: ConsumedState }
  | { kind: 'google_failed'; state: ConsumedState; error: unknown }
  | { kind: 'granted'; state: ConsumedState; grant: GoogleGrant; browserSessionId: string | null };

/** An outcome whose state was consumed: what a flow (link or sign-in) completes. */
export type ConsumedOutcome = Exclude<CallbackOutcome, { kind: 'invalid_state' }>;

/** The reason codes of the SPEC, for `google_link=error&reason=…` and `google_login=error&reason=…`. */
export type LinkFailure = 'access_denied' | 'invalid_state' | 'missing_scopes' | 'google_account_in_use' | 'no_offline_access' | 'google_error';
export type SignInFailure =
  | 'access_denied'
  | 'invalid_state'
  | 'domain_not_allowed'
  | 'signup_disabled'
  | 'email_not_verified'
  | 'invalid_id_token'
  | 'google_account_mismatch'
  | 'google_account_disabled'
  | 'google_error';

export type LinkAnswer = { flow: 'link'; reason: 'success' | LinkFailure };
export type SignInAnswer = { flow: 'login'; reason: SignInFailure } | { flow: 'login'; reason: 'success'; session: IssuedSession; nextPath: string | null };

/** What the browser is told; `reason` is also what the outcome metrics count. */
export type CallbackAnswer = LinkAnswer | SignInAnswer;

export function callbackLocation(answer: CallbackAnswer, config: AppConfig): string {
  if (answer.flow === 'link') {
    const query = answer.reason === 'success' ? 'google_link=success' : `google_link=error&reason=${answer.reason}`;
    return `${config.frontendUrl}/users/me?${query}`;
  }
  if (answer.reason === 'success') return `${config.frontendUrl}${answer.nextPath ?? '/users/me'}`;
  return `${config.loginFailedUrl}?google_login=error&reason=${answer.reason}`;
}

/**
 * The one way the callback answers, whatever happened (the exception filter too): a 302 that is
 * never cached and never leaks its URL as a Referer, setting the session cookie of a sign-in.
 */
export function sendCallbackAnswer(reply: FastifyReply, config: AppConfig, answer: CallbackAnswer): void {
  if (answer.flow === 'login' && answer.reason === 'success') setSessionCookie(reply, config, answer.session.token);
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(callbackLocation(answer, config), 302);
}
