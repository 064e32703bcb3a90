import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-google-oauth20';
import { AppConfig } from '../../config/app-config';
import { GoogleOAuthClient, GoogleTokenResponse } from '../../google/google-oauth.client';
import { newSecretToken } from '../secret-token';
import type { GoogleGrant } from './callback-outcome';
import { exchangeCodesThrough } from './google-code-exchange.adapter';
import type { OAuthPurpose } from './oauth-state.entity';
import { CodeExchangeRequest, ConsumedState, OAuthStateStore } from './oauth-state.store';

export interface AuthorizationStart {
  purpose: OAuthPurpose;
  userId: string | null;
  browserSecret: string;
  loginHint?: string;
  nextPath?: string | null;
}

const GOOGLE = 'google';

type Middleware = (request: object, response: object, next: (error?: Error) => void) => void;
type Outcome = (error: Error | null, grant?: GoogleGrant | false) => void;

/**
 * The Google strategy (passport-google-oauth20), registered once. Both halves of the round trip run
 * through passport's own entry point, `passport.authenticate('google', options, callback)`: the
 * authorization request (PKCE S256 and the state through OAuthStateStore, nonce, access_type,
 * prompt, login_hint) and the callback's code exchange. Identity and business rules are not its
 * concern: `validate` hands the raw grant on.
 */
@Injectable()
export class GoogleStrategy extends PassportStrategy(Strategy, GOOGLE, 6) {
  constructor(
    private readonly config: AppConfig,
    store: OAuthStateStore,
    oauth: GoogleOAuthClient,
  ) {
    super({
      clientID: config.google.clientId,
      clientSecret: config.google.clientSecret,
      callbackURL: config.google.callbackUrl,
      authorizationURL: config.google.authorizationUrl,
      tokenURL: config.google.tokenUrl,
      userProfileURL: config.google.userinfoUrl,
      scope: config.google.loginScopes,
      pkce: true,
      // The typings know only the non-PKCE store signatures; passport-oauth2 dispatches on arity.
      store: store as never,
      skipUserProfile: true,
      passReqToCallback: true,
    });
    exchangeCodesThrough(oauth, this);
  }

  /**
   * Google's consent URL for a new flow. passport writes its redirect to the response it is given:
   * here a recorder, as the link start answers `{ url }` and a Fastify reply is not a Node response.
   */
  authorizationUrl(start: AuthorizationStart): Promise<string> {
    const link = start.purpose === 'link';
    const google = this.config.google;
    const nonce = newSecretToken();
    const options = {
      session: false,
      scope: link ? google.linkScopes : google.loginScopes,
      accessType: link ? 'offline' : 'online',
      includeGrantedScopes: link,
      prompt: (link ? google.linkPrompt : google.loginPrompt) || undefined,
      loginHint: start.loginHint,
      nonce,
      // An object, not a string: passport-oauth2 then has the state store create the state.
      state: { purpose: start.purpose, userId: start.userId, browserSecret: start.browserSecret, nonce, nextPath: start.nextPath ?? null },
    };
    return new Promise((resolve, reject) => {
      let location = '';
      const recorder = {
        statusCode: 0,
        setHeader: (name: string, value: string) => {
          if (name.toLowerCase() === 'location') location = value;
        },
        end: () => resolve(location),
      };
      const refused: Outcome = (error) => reject(error ?? new Error('The Google strategy refused to start an authorization request'));
      // A blank request: passport-oauth2 treats any `code` or `error` in the query as a callback.
      this.authenticateWith(options, refused)({ query: {}, body: {} }, recorder, reject);
    });
  }

  /** Trades a callback's code for Google's grant, with the PKCE verifier of the state consumed for it. */
  exchange(code: string, state: ConsumedState): Promise<GoogleGrant> {
    const request: CodeExchangeRequest = { query: { code }, body: {}, consumedState: state };
    return new Promise((resolve, reject) => {
      const done: Outcome = (error, grant) => {
        // passport-oauth2 wraps a failed token request; its cause is GoogleOAuthClient's error.
        if (error) reject((error as Error & { oauthError?: Error }).oauthError ?? error);
        else if (grant) resolve(grant);
        else reject(new Error('passport refused the code exchange'));
      };
      this.authenticateWith({ session: false }, done)(request, {}, reject);
    });
  }

  override authorizationParams(options: { nonce?: string }): object {
    const params = super.authorizationParams(options) as Record<string, unknown>;
    return options.nonce ? { ...params, nonce: options.nonce } : params;
  }

  validate(_request: unknown, accessToken: string, refreshToken: string | undefined, params: GoogleTokenResponse): GoogleGrant {
    return {
      accessToken,
      refreshToken: refreshToken || undefined,
      expiresIn: params.expires_in,
      scope: params.scope ?? '',
      idToken: params.id_token,
    };
  }

  /** passport's per-request run of this strategy (it works on a copy, so concurrent requests never share one). */
  private authenticateWith(options: object, callback: Outcome): Middleware {
    return passport.authenticate(GOOGLE, options, callback) as Middleware;
  }
}
