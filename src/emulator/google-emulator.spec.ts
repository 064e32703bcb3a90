import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, JSONWebKeySet, jwtVerify } from 'jose';
import { EmulatorSigningKey } from './emulator-signing-key';
import { ConsentDecision, EmulatorResponse, Params } from './emulator.types';
import { GoogleEmulator } from './google-emulator';

const ISSUER = 'https://emulator.test/_emulator/google';
const CLIENT = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'secret-1' };
const CLIENT_AUTH = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
const REDIRECT_URI = 'https://app.test/api/v1/auth/google/callback';
const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const LINK_SCOPES = `openid email profile ${CALENDAR}`;
const START = Date.parse('2030-01-15T10:00:00Z');

const signingKeyPem = EmulatorSigningKey.generate().toPem();
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const body = <T = Record<string, any>>(response: EmulatorResponse) => response.body as T;

describe('GoogleEmulator', () => {
  let now: number;
  let emulator: GoogleEmulator;
  let verifier: string;

  beforeEach(() => {
    now = START;
    emulator = new GoogleEmulator({
      issuer: ISSUER,
      clients: [{ ...CLIENT, redirectUris: [REDIRECT_URI] }],
      now: () => now,
      state: { signingKeyPem, grants: { grants: [], accessTokens: [] } },
    });
    verifier = randomBytes(32).toString('base64url');
  });

  const query = (overrides: Params = {}): Params => ({
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: LINK_SCOPES,
    state: 'state-123',
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    access_type: 'offline',
    prompt: 'consent',
    nonce: 'nonce-abc',
    ...overrides,
  });

  /** Where the browser lands after the person decides. */
  const consent = (params: Params, decision: Partial<ConsentDecision> = {}): URL => {
    const outcome = emulator.authorize(params);
    if (outcome.kind === 'error-page') throw new Error(`error page: ${outcome.error}`);
    if (outcome.kind === 'redirect') return new URL(outcome.location);
    return new URL(emulator.authorization.decide(outcome.request, { email: 'ada@example.com', ...decision }));
  };

  const exchange = (code: string, overrides: Params = {}) =>
    emulator.token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...CLIENT_AUTH, ...overrides });

  /** A full link: consent, then the code exchange. */
  const link = (params: Params = {}, decision: Partial<ConsentDecision> = {}) => {
    const code = consent(query(params), decision).searchParams.get('code')!;
    const response = exchange(code);
    expect(response.status).toBe(200);
    return body(response);
  };

  const refresh = (refreshToken: string) => emulator.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...CLIENT_AUTH });

  describe('the authorization endpoint', () => {
    it('shows an error page, never a redirect, for an unknown client or an unregistered redirect URI', () => {
      const unknownClient = emulator.authorize(query({ client_id: 'someone-else' }));
      const foreignRedirect = emulator.authorize(query({ redirect_uri: 'https://evil.test/callback' }));

      expect(unknownClient).toMatchObject({ kind: 'error-page', error: 'invalid_client' });
      expect(foreignRedirect).toMatchObject({ kind: 'error-page', error: 'redirect_uri_mismatch' });
    });

    it.each([
      ['no code_challenge', { code_challenge: undefined }],
      ['the plain method', { code_challenge_method: 'plain' }],
      ['a too-short challenge', { code_challenge: 'abc' }],
      ['no scope', { scope: '' }],
      ['prompt=none mixed with consent', { prompt: 'none consent' }],
    ])('redirects with error=invalid_request for %s', (_, overrides) => {
      const location = consent(query(overrides));

      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('state-123');
    });

    it('answers prompt=none without an earlier grant with interaction_required', () => {
      const location = consent(query({ prompt: 'none', login_hint: 'ada@example.com' }));

      expect(location.searchParams.get('error')).toBe('interaction_required');
      expect(location.searchParams.get('code')).toBeNull();
    });

    it('answers prompt=none after an earlier grant with a code', () => {
      link();

      const location = consent(query({ prompt: 'none', login_hint: 'ada@example.com' }));

      expect(location.searchParams.get('code')).toMatch(/^4\/0/);
    });

    it('redirects a cancelled consent with error=access_denied, the state and its issuer (RFC 9207)', () => {
      const location = consent(query(), { cancel: true });

      expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'access_denied', state: 'state-123', iss: ISSUER });
    });

    it('redirects an allowed consent with code, state, the granted scopes and authuser', () => {
      const location = consent(query());

      expect(location.searchParams.get('code')).toMatch(/^4\/0[A-Za-z0-9_-]+$/);
      expect(location.searchParams.get('state')).toBe('state-123');
      expect(location.searchParams.get('scope')).toBe(LINK_SCOPES);
      expect(location.searchParams.get('authuser')).toBe('0');
      expect(location.searchParams.get('iss')).toBe(ISSUER);
    });

    it('grants a subset under granular consent, but always the basic scopes', () => {
      const location = consent(query(), { grantScopes: [] });

      expect(location.searchParams.get('scope')).toBe('openid email profile');
    });
  });

  describe('the code exchange', () => {
    it('refuses a code_verifier that does not match the challenge: invalid_grant', () => {
      const code = consent(query()).searchParams.get('code')!;

      const response = exchange(code, { code_verifier: randomBytes(32).toString('base64url') });

      expect(response.status).toBe(400);
      expect(body(response).error).toBe('invalid_grant');
    });

    it('refuses a reused code with invalid_grant, and revokes what the first exchange issued', () => {
      const code = consent(query()).searchParams.get('code')!;
      const first = body(exchange(code));

      const second = exchange(code);

      expect(second.status).toBe(400);
      expect(body(second).error).toBe('invalid_grant');
      expect(emulator.grants.isLive(first.refresh_token)).toBe(false);
      expect(emulator.grants.isLive(first.access_token)).toBe(false);
    });

    it('refuses a redirect_uri other than the authorization request one', () => {
      const code = consent(query()).searchParams.get('code')!;

      const response = exchange(code, { redirect_uri: 'https://app.test/other' });

      expect(response.status).toBe(400);
      expect(body(response).error).toBe('redirect_uri_mismatch');
    });

    it('refuses a code older than 10 minutes', () => {
      const code = consent(query()).searchParams.get('code')!;
      now += 10 * 60_000 + 1;

      expect(body(exchange(code)).error).toBe('invalid_grant');
    });

    it('refuses a wrong client secret with 401 invalid_client, and accepts HTTP Basic', () => {
      const code = consent(query()).searchParams.get('code')!;
      const basic = `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`;
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };

      const wrong = emulator.token({ ...form, client_id: CLIENT.clientId, client_secret: 'nope' });
      const viaBasic = emulator.token(form, basic);

      expect(wrong.status).toBe(401);
      expect(body(wrong).error).toBe('invalid_client');
      expect(viaBasic.status).toBe(200);
    });

    it('issues long ya29. access tokens, 1//0 refresh tokens and Google-shaped answers', () => {
      const tokens = link();

      expect(tokens).toEqual({
        access_token: expect.stringMatching(/^ya29\.[A-Za-z0-9_-]+$/),
        expires_in: 3599,
        refresh_token: expect.stringMatching(/^1\/\/0[A-Za-z0-9_-]+$/),
        scope: LINK_SCOPES,
        token_type: 'Bearer',
        id_token: expect.any(String),
      });
      expect(tokens.access_token.length).toBeGreaterThan(223);
    });
  });

  describe('refresh tokens', () => {
    it('comes with the first offline consent and with prompt=consent, not with a re-consent without it', () => {
      const first = link({ prompt: undefined });
      const withConsent = link({ prompt: 'consent' });
      const withoutConsent = link({ prompt: 'select_account' });

      expect(first.refresh_token).toEqual(expect.any(String));
      expect(withConsent.refresh_token).toEqual(expect.any(String));
      expect(withoutConsent.refresh_token).toBeUndefined();
    });

    it('never comes with access_type=online', () => {
      expect(link({ access_type: 'online' }).refresh_token).toBeUndefined();
    });

    it('comes again without prompt=consent once the earlier grant was revoked', () => {
      const first = link();
      emulator.revoke({ token: first.refresh_token });

      expect(link({ prompt: undefined }).refresh_token).toEqual(expect.any(String));
    });

    it('refreshes: a new access token with the grant scopes, no refresh_token, an ID token', () => {
      const { refresh_token, access_token } = link();

      const response = refresh(refresh_token);

      expect(response.status).toBe(200);
      expect(body(response)).toEqual({
        access_token: expect.stringMatching(/^ya29\./),
        expires_in: 3599,
        scope: LINK_SCOPES,
        token_type: 'Bearer',
        id_token: expect.any(String),
      });
      expect(body(response).access_token).not.toBe(access_token);
    });

    it('rotates when asked: the new refresh token works, the old one is invalid_grant', () => {
      emulator.rotateRefreshTokens = true;
      const { refresh_token } = link();

      const rotated = body(refresh(refresh_token)).refresh_token;

      expect(rotated).toMatch(/^1\/\/0/);
      expect(refresh(rotated).status).toBe(200);
      expect(body(refresh(refresh_token)).error).toBe('invalid_grant');
    });

    it('answers a refresh after revocation with Google’s invalid_grant', () => {
      const { refresh_token } = link();
      emulator.revoke({ token: refresh_token });

      const response = refresh(refresh_token);

      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    });

    it('unions scopes with earlier grants under include_granted_scopes', () => {
      link({ scope: `openid ${CALENDAR}` });

      const later = link({ scope: 'openid email', include_granted_scopes: 'true' });
      const alone = link({ scope: 'openid email' });

      expect(later.scope.split(' ').sort()).toEqual(['email', 'openid', CALENDAR].sort());
      expect(alone.scope).toBe('openid email');
    });
  });

  describe('revocation', () => {
    it('revokes the whole grant from its access token', () => {
      const { access_token, refresh_token } = link();

      const response = emulator.revoke({ token: access_token });

      expect(response).toMatchObject({ status: 200, body: {} });
      expect(emulator.grants.isLive(refresh_token)).toBe(false);
      expect(emulator.userinfo(`Bearer ${access_token}`).status).toBe(401);
    });

    it('answers an unknown or already revoked token with invalid_token', () => {
      const { refresh_token } = link();
      emulator.revoke({ token: refresh_token });

      expect(emulator.revoke({ token: refresh_token })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
      expect(emulator.revoke({ token: '1//0unknown' })).toMatchObject({ status: 400, body: { error: 'invalid_token' } });
    });
  });

  describe('ID tokens and userinfo', () => {
    const verify = (idToken: string) =>
      jwtVerify(idToken, createLocalJWKSet(body<JSONWebKeySet>(emulator.jwks())), {
        issuer: ISSUER,
        audience: CLIENT.clientId,
        algorithms: ['RS256'],
        currentDate: new Date(now),
      });

    it('signs an RS256 ID token that verifies against the JWKS, with the nonce and a stable 21-digit sub', async () => {
      const first = link({}, { email: 'Ada@Example.com', name: 'Ada Lovelace' });
      const second = link({ nonce: 'other' }, { email: 'ada@example.com' });

      const { payload, protectedHeader } = await verify(first.id_token);
      const again = await verify(second.id_token);

      expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: emulator.signingKey.kid });
      expect(payload).toMatchObject({
        iss: ISSUER,
        aud: CLIENT.clientId,
        azp: CLIENT.clientId,
        sub: expect.stringMatching(/^\d{21}$/),
        email: 'ada@example.com',
        email_verified: true,
        name: 'Ada Lovelace',
        hd: 'example.com',
        nonce: 'nonce-abc',
        iat: START / 1000,
        exp: START / 1000 + 3600,
      });
      expect(again.payload.sub).toBe(payload.sub);
      expect(again.payload.nonce).toBe('other');
    });

    it('gives gmail.com accounts no hd, and honours scripted claims', async () => {
      const gmail = await verify(link({}, { email: 'bob@gmail.com' }).id_token);
      const scripted = await verify(link({}, { email: 'eve@corp.test', emailVerified: false, hd: null, sub: '42' }).id_token);

      expect(gmail.payload.hd).toBeUndefined();
      expect(scripted.payload).toMatchObject({ sub: '42', email_verified: false });
      expect(scripted.payload.hd).toBeUndefined();
    });

    it('gives no ID token without openid', () => {
      expect(link({ scope: CALENDAR }).id_token).toBeUndefined();
    });

    it('answers userinfo for a live token, and 401 once it expired', () => {
      const { access_token } = link({}, { email: 'ada@example.com', name: 'Ada Lovelace' });

      const live = emulator.userinfo(`Bearer ${access_token}`);
      now += 3599_000;
      const expired = emulator.userinfo(`Bearer ${access_token}`);

      expect(live.body).toEqual({
        sub: expect.any(String),
        email: 'ada@example.com',
        email_verified: true,
        name: 'Ada Lovelace',
        given_name: 'Ada',
        family_name: 'Lovelace',
        picture: expect.any(String),
        hd: 'example.com',
      });
      expect(expired.status).toBe(401);
    });
  });

  describe('persistence', () => {
    it('keeps grants and the signing key across a restart, but no token in clear', async () => {
      const tokens = link();
      const saved = JSON.stringify(emulator.state());

      const restarted = new GoogleEmulator({ issuer: ISSUER, clients: [CLIENT], state: JSON.parse(saved), now: () => now });

      expect(saved).not.toContain(tokens.refresh_token);
      expect(saved).not.toContain(tokens.access_token);
      expect(restarted.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...CLIENT_AUTH }).status).toBe(200);
      expect(restarted.userinfo(`Bearer ${tokens.access_token}`).status).toBe(200);
      expect(restarted.jwks().body).toEqual(emulator.jwks().body);
    });
  });

  describe('the Calendar events endpoint', () => {
    const events = (accessToken: string, params: Params = {}) =>
      emulator.events(`Bearer ${accessToken}`, 'primary', { eventTypes: 'outOfOffice', singleEvents: 'true', orderBy: 'startTime', ...params });

    it('answers 403 insufficientPermissions for a grant without a calendar read scope', () => {
      const { access_token } = link({ scope: 'openid email profile' });

      const response = events(access_token);

      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          status: 'PERMISSION_DENIED',
          errors: [expect.objectContaining({ reason: 'insufficientPermissions' })],
        },
      });
    });

    it('accepts a broader calendar scope', () => {
      const { access_token } = link({ scope: 'openid https://www.googleapis.com/auth/calendar' });

      expect(events(access_token).status).toBe(200);
    });

    it('answers 401 UNAUTHENTICATED for an expired, revoked or unknown token', () => {
      const expired = link().access_token;
      now += 3600_000;
      const revoked = link().access_token;
      emulator.revoke({ token: revoked });

      for (const token of [expired, revoked, 'ya29.unknown']) {
        const response = events(token);
        expect(response.status).toBe(401);
        expect(body(response).error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });
      }
    });

    it('serves default out-of-office events ahead of now, timed and all-day', () => {
      const { access_token } = link();

      const { items, kind } = body(events(access_token, { timeMin: '2030-01-15T00:00:00Z', timeMax: '2030-03-15T00:00:00Z' }));

      expect(kind).toBe('calendar#events');
      expect(items).toHaveLength(3);
      expect(items[0]).toMatchObject({ eventType: 'outOfOffice', start: { dateTime: '2030-01-18T13:00:00Z', timeZone: 'UTC' } });
      expect(items[1]).toMatchObject({ start: { date: '2030-01-25' }, end: { date: '2030-01-27' } });
    });

    it('keeps only out-of-office events overlapping the window', () => {
      const { access_token } = link();
      emulator.calendar.setEvents('ada@example.com', [
        { id: 'before', summary: 'Before', start: { dateTime: '2030-02-01T08:00:00Z' }, end: { dateTime: '2030-02-01T09:00:00Z' } },
        { id: 'straddles', summary: 'Straddles', start: { date: '2030-02-01' }, end: { date: '2030-02-03' } },
        { id: 'inside', summary: 'Inside', start: { dateTime: '2030-02-02T10:00:00Z' }, end: { dateTime: '2030-02-02T12:00:00Z' } },
        { id: 'meeting', summary: 'Meeting', eventType: 'default', start: { dateTime: '2030-02-02T13:00:00Z' }, end: { dateTime: '2030-02-02T14:00:00Z' } },
        { id: 'after', summary: 'After', start: { dateTime: '2030-02-05T00:00:00Z' }, end: { dateTime: '2030-02-05T01:00:00Z' } },
      ]);

      const { items } = body(events(access_token, { timeMin: '2030-02-01T09:00:00Z', timeMax: '2030-02-05T00:00:00Z' }));

      expect(items.map((item: { id: string }) => item.id)).toEqual(['straddles', 'inside']);
    });

    it('pages by maxResults and pageToken', () => {
      const { access_token } = link();
      const days = [1, 2, 3, 4, 5];
      emulator.calendar.setEvents(
        'ada@example.com',
        days.map((day) => ({ id: `e${day}`, summary: `Day ${day}`, start: { date: `2030-02-0${day}` }, end: { date: `2030-02-0${day + 1}` } })),
      );
      const window = { timeMin: '2030-01-01T00:00:00Z', timeMax: '2030-03-01T00:00:00Z', maxResults: '2' };

      const pages: string[][] = [];
      let pageToken: string | undefined;
      do {
        const page = body(events(access_token, { ...window, pageToken }));
        pages.push(page.items.map((item: { id: string }) => item.id));
        pageToken = page.nextPageToken;
      } while (pageToken);

      expect(pages).toEqual([['e1', 'e2'], ['e3', 'e4'], ['e5']]);
    });

    it('refuses a time without an offset, as Google does', () => {
      const { access_token } = link();

      expect(events(access_token, { timeMin: '2030-02-01T09:00:00' }).status).toBe(400);
    });
  });
});
