import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-google-oauth20';
import { AppConfig } from '../config/app-config';
import { GoogleOAuthClient, GoogleTokenResponse } from '../google/google-oauth.client';
import { GoogleGrant } from './oauth-flow';
import { OAuthStateStore } from './oauth-state.store';

type TokenCallback = (error: unknown, accessToken?: string, refreshToken?: string, params?: GoogleTokenResponse) => void;

/**
 * The Google strategy, registered once. It builds authorization requests (PKCE S256, state from
 * OAuthStateStore, nonce, access_type, prompt, login_hint) and runs the callback's code exchange.
 * Identity and business rules are not its concern: `validate` hands the raw grant on.
 */
@Injectable()
export class GoogleStrategy extends PassportStrategy(Strategy, 'google', 6) {
  constructor(config: AppConfig, store: OAuthStateStore, oauth: GoogleOAuthClient) {
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
    // The code exchange goes through GoogleOAuthClient like every other Google call, for its
    // timeout, metrics and error sorting (node-oauth's own request has no timeout).
    const oauth2 = (this as unknown as { _oauth2: { getOAuthAccessToken: unknown } })._oauth2;
    oauth2.getOAuthAccessToken = (code: string, params: { code_verifier: string }, done: TokenCallback) => {
      oauth.exchangeCode(code, params.code_verifier).then(
        (tokens) => done(null, tokens.access_token, tokens.refresh_token, tokens),
        (error: unknown) => done(error),
      );
    };
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
}
