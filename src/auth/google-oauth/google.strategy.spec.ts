import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { AppConfig } from '../../config/app-config';
import { KeyRing } from '../../crypto/key-ring';
import { GoogleUnavailableError } from '../../google/google-errors';
import { GoogleOAuthClient, GoogleTokenResponse } from '../../google/google-oauth.client';
import { hashSecretToken, newSecretToken } from '../secret-token';
import { GoogleStrategy } from './google.strategy';
import { OAuthState } from './oauth-state.entity';
import { NewStateRow, OAuthStateWriter } from './oauth-state.writer';
import { ConsumedState, OAuthStateStore } from './oauth-state.store';

const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const GOOGLE = {
  clientId: 'client-1.apps.googleusercontent.com',
  clientSecret: 'secret',
  callbackUrl: 'https://link.example.com/api/v1/auth/google/callback',
  authorizationUrl: 'https://accounts.example/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.example/token',
  userinfoUrl: 'https://openidconnect.example/v1/userinfo',
  loginScopes: ['openid', 'email', 'profile'],
  linkScopes: ['openid', 'email', 'profile', CALENDAR],
  linkPrompt: 'consent',
  loginPrompt: 'select_account',
};
const BROWSER = newSecretToken();
const STATE: ConsumedState = { purpose: 'link', userId: 'user-1', codeVerifier: 'the-consumed-verifier', nonce: 'n', nextPath: null };

/** Passport drives the strategy through the real OAuthStateStore; only its table and Google's token endpoint are doubles. */
describe('GoogleStrategy (through passport)', () => {
  let strategy: GoogleStrategy;
  let insert: jest.Mock<(row: NewStateRow) => Promise<void>>;
  let exchangeCode: jest.Mock<GoogleOAuthClient['exchangeCode']>;

  beforeEach(async () => {
    insert = jest.fn(async () => undefined);
    exchangeCode = jest.fn<GoogleOAuthClient['exchangeCode']>();
    const moduleRef = await Test.createTestingModule({
      providers: [
        GoogleStrategy,
        OAuthStateStore,
        { provide: getRepositoryToken(OAuthState), useValue: {} },
        { provide: OAuthStateWriter, useValue: { insert } },
        { provide: KeyRing, useValue: {} },
        { provide: GoogleOAuthClient, useValue: { exchangeCode } },
        { provide: AppConfig, useValue: { google: GOOGLE, stateTtlSeconds: 600 } },
      ],
    }).compile();
    strategy = moduleRef.get(GoogleStrategy);
  });

  describe('exchange', () => {
    it("rejects with GoogleOAuthClient's own error (timeout, 5xx…), not passport's wrapper", async () => {
      const unavailable = new GoogleUnavailableError('token', 'timeout');
      exchangeCode.mockRejectedValue(unavailable);

      await expect(strategy.exchange('code-1', STATE)).rejects.toBe(unavailable);
    });

    it("sends the code with the consumed state's PKCE verifier, and hands on the grant", async () => {
      const tokens: GoogleTokenResponse = {
        access_token: 'ya29.a',
        refresh_token: '1//r',
        expires_in: 3599,
        scope: `openid ${CALENDAR}`,
        token_type: 'Bearer',
        id_token: 'id.token.jwt',
      };
      exchangeCode.mockResolvedValue(tokens);

      const grant = await strategy.exchange('code-1', STATE);

      expect(exchangeCode).toHaveBeenCalledWith('code-1', 'the-consumed-verifier');
      expect(grant).toEqual({ accessToken: 'ya29.a', refreshToken: '1//r', expiresIn: 3599, scope: `openid ${CALENDAR}`, idToken: 'id.token.jwt' });
    });
  });

  describe('authorizationUrl', () => {
    it('rejects when the state cannot be stored', async () => {
      insert.mockRejectedValue(new Error('database unavailable'));

      await expect(strategy.authorizationUrl({ purpose: 'login', userId: null, browserSecret: BROWSER })).rejects.toThrow('database unavailable');
    });

    it('asks for offline Calendar access when linking, with PKCE S256, a nonce and a state only stored as hashes', async () => {
      const url = new URL(await strategy.authorizationUrl({ purpose: 'link', userId: 'user-1', browserSecret: BROWSER, loginHint: 'ada@example.com' }));

      const params = Object.fromEntries(url.searchParams);
      const stored = insert.mock.calls[0][0];
      expect(`${url.origin}${url.pathname}`).toBe(GOOGLE.authorizationUrl);
      expect(params).toMatchObject({
        client_id: GOOGLE.clientId,
        redirect_uri: GOOGLE.callbackUrl,
        response_type: 'code',
        scope: GOOGLE.linkScopes.join(' '),
        access_type: 'offline',
        include_granted_scopes: 'true',
        prompt: 'consent',
        login_hint: 'ada@example.com',
        code_challenge_method: 'S256',
        nonce: stored.nonce,
      });
      expect(params.code_challenge).toBe(createHash('sha256').update(stored.codeVerifier.open(stored.id)).digest('base64url'));
      expect(stored.stateHash).toEqual(hashSecretToken(params.state));
      expect(stored).toMatchObject({ purpose: 'link', userId: 'user-1', browserHash: hashSecretToken(BROWSER), nextPath: null });
    });

    it('signs in online with the login prompt, keeping the next path with the state', async () => {
      const url = new URL(await strategy.authorizationUrl({ purpose: 'login', userId: null, browserSecret: BROWSER, nextPath: '/calendar' }));

      const params = Object.fromEntries(url.searchParams);
      expect(params).toMatchObject({ scope: 'openid email profile', access_type: 'online', prompt: 'select_account' });
      expect(params).not.toHaveProperty('include_granted_scopes');
      expect(params).not.toHaveProperty('login_hint');
      expect(insert.mock.calls[0][0]).toMatchObject({ purpose: 'login', userId: null, nextPath: '/calendar' });
    });

    it('gives concurrent starts their own state, verifier and nonce', async () => {
      const urls = await Promise.all([1, 2].map(() => strategy.authorizationUrl({ purpose: 'login', userId: null, browserSecret: BROWSER })));

      const [first, second] = urls.map((url) => new URL(url).searchParams);
      expect(first.get('state')).not.toBe(second.get('state'));
      expect(first.get('code_challenge')).not.toBe(second.get('code_challenge'));
      expect(first.get('nonce')).not.toBe(second.get('nonce'));
    });
  });
});
