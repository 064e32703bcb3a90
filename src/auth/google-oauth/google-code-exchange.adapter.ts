import type { GoogleOAuthClient, GoogleTokenResponse } from '../../google/google-oauth.client';

type TokenCallback = (error: unknown, accessToken?: string, refreshToken?: string, params?: GoogleTokenResponse) => void;

interface NodeOAuth2 {
  getOAuthAccessToken(code: string, params: { code_verifier?: string }, done: TokenCallback): void;
}

/**
 * The one place this service reaches inside passport, and why: passport-oauth2 sends the token
 * request through node-oauth (`strategy._oauth2.getOAuthAccessToken`), whose HTTP request has no
 * timeout, feeds no metrics and turns Google's answers into unsorted errors, and passport-oauth2 has
 * no public hook for that request (`tokenParams` only adds parameters, `customHeaders` only headers).
 * So this replaces that one method of the strategy's `_oauth2` (an object passport-oauth2 calls
 * "protected", for subclasses) with GoogleOAuthClient.exchangeCode, as every other call to Google
 * goes: GOOGLE_HTTP_TIMEOUT_MS, the `token` metrics, GoogleUnavailableError / GoogleRejectedError.
 * Everything else stays passport's: when the code is exchanged, with which verifier (from
 * OAuthStateStore.verify), and what `validate` makes of the answer.
 */
export function exchangeCodesThrough(oauth: GoogleOAuthClient, strategy: object): void {
  const oauth2 = (strategy as { _oauth2: NodeOAuth2 })._oauth2;
  oauth2.getOAuthAccessToken = (code, params, done) => {
    // PKCE always: a code never goes to Google without its verifier.
    if (!params.code_verifier) return done(new Error('no PKCE verifier for the code exchange'));
    oauth.exchangeCode(code, params.code_verifier).then(
      (tokens) => done(null, tokens.access_token, tokens.refresh_token, tokens),
      (error: unknown) => done(error),
    );
  };
}
