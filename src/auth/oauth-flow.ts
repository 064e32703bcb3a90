import type { AppRequest } from '../common/request-context';
import type { OAuthPurpose } from './oauth-state.entity';
import type { ConsumedState, RejectedState } from './oauth-states.service';

/** The OAuth round trip a callback belongs to, as the state-token guard found it. */
export interface OAuthFlow {
  state: ConsumedState | RejectedState;
  /** The user signed in on this browser, if any (decides where an unknown state lands). */
  sessionUserId: string | null;
}

/** What the Google exchange produced for a usable state. */
export interface GoogleGrant {
  accessToken: string;
  refreshToken: string | undefined;
  expiresIn: number;
  scope: string;
  idToken: string | undefined;
}

export type CallbackResult = { kind: 'grant'; grant: GoogleGrant } | { kind: 'denied' } | { kind: 'failed'; error: unknown } | { kind: 'skipped' };

export type OAuthRequest = AppRequest & { oauthFlow?: OAuthFlow; oauthResult?: CallbackResult };

export interface StartOptions {
  purpose: OAuthPurpose;
  userId: string | null;
  loginHint?: string;
  nextPath?: string | null;
}

export const BINDING_COOKIE = 'g_oauth_binding';
export const BINDING_COOKIE_PATH = '/api/v1/auth/google';
