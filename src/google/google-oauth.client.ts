import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GoogleUnavailableError } from './google-errors';
import { GoogleHttpClient } from './google-http.client';

export interface GoogleTokenResponse {
  access_token: string;
  expires_in: number;
  scope?: string;
  token_type: string;
  id_token?: string;
  refresh_token?: string;
}

export interface GoogleUserInfo {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  hd?: string;
}

/** Google's access tokens live an hour; a lifetime over a day (1e20, say) is not an answer of Google's. */
const MAX_EXPIRES_IN_SECONDS = 86_400;

/** Google's OAuth 2.0 endpoints: code exchange, refresh, revocation, userinfo. */
@Injectable()
export class GoogleOAuthClient {
  constructor(
    private readonly http: GoogleHttpClient,
    private readonly config: AppConfig,
  ) {}

  async exchangeCode(code: string, codeVerifier: string): Promise<GoogleTokenResponse> {
    const tokens = await this.http.json<GoogleTokenResponse>('token', {
      method: 'POST',
      url: this.config.google.tokenUrl,
      form: {
        grant_type: 'authorization_code',
        code,
        code_verifier: codeVerifier,
        redirect_uri: this.config.google.callbackUrl,
        client_id: this.config.google.clientId,
        client_secret: this.config.google.clientSecret,
      },
    });
    return this.checked('token', tokens);
  }

  async refresh(refreshToken: string): Promise<GoogleTokenResponse> {
    const tokens = await this.http.json<GoogleTokenResponse>('refresh', {
      method: 'POST',
      url: this.config.google.tokenUrl,
      form: {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: this.config.google.clientId,
        client_secret: this.config.google.clientSecret,
      },
    });
    return this.checked('refresh', tokens);
  }

  /** Revokes the whole grant the token belongs to. */
  async revoke(token: string): Promise<void> {
    await this.http.json<unknown>('revoke', { method: 'POST', url: this.config.google.revokeUrl, form: { token } });
  }

  /** The access token goes in the Authorization header, never in the query string (where logs keep it). */
  async userInfo(accessToken: string): Promise<GoogleUserInfo> {
    const info = await this.http.json<GoogleUserInfo>('userinfo', { method: 'GET', url: this.config.google.userinfoUrl, bearer: accessToken });
    if (typeof info.sub !== 'string' || !info.sub) throw new GoogleUnavailableError('userinfo', 'no sub in the answer');
    return info;
  }

  private checked(endpoint: 'token' | 'refresh', tokens: GoogleTokenResponse): GoogleTokenResponse {
    const valid =
      typeof tokens.access_token === 'string' &&
      tokens.access_token.length > 0 &&
      (tokens.expires_in === undefined || (Number.isFinite(tokens.expires_in) && tokens.expires_in > 0 && tokens.expires_in <= MAX_EXPIRES_IN_SECONDS)) &&
      (tokens.refresh_token === undefined || typeof tokens.refresh_token === 'string') &&
      (tokens.scope === undefined || typeof tokens.scope === 'string') &&
      (tokens.id_token === undefined || typeof tokens.id_token === 'string');
    if (!valid) throw new GoogleUnavailableError(endpoint, 'the token answer is malformed');
    return { ...tokens, expires_in: tokens.expires_in ?? 3600 };
  }
}
