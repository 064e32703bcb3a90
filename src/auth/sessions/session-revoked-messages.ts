import type { SessionRevokedReason } from '../../common/domain-error';

/** What a 401 says about a session Google ended (the users/me page has its own words for each reason). */
export const SESSION_REVOKED_MESSAGES: Record<SessionRevokedReason, string> = {
  google_sessions_revoked: "Google told us your account's sessions were ended, so you were signed out; sign in again",
  google_tokens_revoked:
    "Google told us your account's sessions were ended and its access to your Google account withdrawn, so you were signed out; sign in again, then reconnect your Google account",
  google_account_disabled:
    'Google told us your Google account was disabled, so you were signed out; signing in with it is refused until Google enables it again',
};
