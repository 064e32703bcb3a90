import { createHash, createVerify, randomBytes, X509Certificate } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, JSONWebKeySet, jwtVerify } from 'jose';
import { EmulatorSigningKey } from './emulator-signing-key';
import type { AuthorizationRequest } from './emulator-authorization';
import { ConsentDecision, EmulatorResponse, Params } from './emulator.types';
import { GoogleEmulator } from './google-emulator';

const ISSUER = 'https://emulator.test/_emulator/google';
const CLIENT = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: 'secret-1' };
const CLIENT_AUTH = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
const REDIRECT_URI = 'https://app.test/api/v1/auth/google/callback';
const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const LINK_SCOPES = `openid email profile ${CALENDAR}`;
const START = Date.parse('2030-01-15T10:00:00Z');
const DAY_MS = 86_400_000;
const REALM = 'Bearer realm="https://accounts.google.com/"';

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
      ['a code_challenge_method without code_challenge', { code_challenge: undefined }],
      ['a method Google does not know', { code_challenge_method: 'S512' }],
      ['a too-short challenge', { code_challenge: 'abc' }],
      ['no scope', { scope: '' }],
      ['prompt=none mixed with consent', { prompt: 'none consent' }],
    ])('redirects with error=invalid_request for %s', (_, overrides) => {
      const location = consent(query(overrides));

      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('state-123');
    });

    it('goes straight to consent for a login_hint naming an account signed in at the chooser, unless prompt=select_account', () => {
      const first = emulator.authorize(query({ login_hint: 'ada@example.com' }));
      if (first.kind !== 'valid') throw new Error(`unexpected ${first.kind}`);
      emulator.authorization.choose(emulator.authorization.park(first.request), 'Ada@Example.com', 'Ada Lovelace');

      const hinted = emulator.authorize(query({ login_hint: 'ADA@example.com' }));
      const choosing = emulator.authorize(query({ login_hint: 'ada@example.com', prompt: 'select_account' }));
      const stranger = emulator.authorize(query({ login_hint: 'bob@example.com' }));

      expect(first).not.toHaveProperty('account');
      expect(hinted).toMatchObject({ kind: 'valid', account: { email: 'ada@example.com', name: 'Ada Lovelace' } });
      expect(emulator.authorization.park((hinted as { request: AuthorizationRequest }).request, { email: 'ada@example.com' })).toMatchObject({
        email: 'ada@example.com',
      });
      expect(choosing).toMatchObject({ kind: 'valid' });
      expect(choosing).not.toHaveProperty('account');
      expect(stranger).not.toHaveProperty('account');
    });

    it('names the app by the client name, else its id', () => {
      const named = new GoogleEmulator({
        issuer: ISSUER,
        clients: [{ ...CLIENT, name: 'google-link' }],
        state: { signingKeyPem, grants: { grants: [], accessTokens: [] } },
      });

      expect(named.authorize(query())).toMatchObject({ kind: 'valid', request: { appName: 'google-link' } });
      expect(emulator.authorize(query())).toMatchObject({ kind: 'valid', request: { appName: CLIENT.clientId } });
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

  describe('PKCE, as Google documents it', () => {
    const codeFor = (params: Params) => consent(query(params)).searchParams.get('code')!;

    it('is optional: a request without a challenge gets a code that is exchanged without a verifier', () => {
      const code = codeFor({ code_challenge: undefined, code_challenge_method: undefined });

      expect(exchange(code, { code_verifier: undefined }).status).toBe(200);
    });

    it('refuses a verifier for a code whose request had no challenge (no downgrade, RFC 9700 §2.1.1)', () => {
      const code = codeFor({ code_challenge: undefined, code_challenge_method: undefined });

      expect(body(exchange(code)).error).toBe('invalid_grant');
    });

    it.each([
      ['plain', 'plain'],
      ['no method (plain by default)', undefined],
    ])('accepts %s: the verifier is the challenge itself', (_, method) => {
      const right = exchange(codeFor({ code_challenge: verifier, code_challenge_method: method }));
      const hashed = exchange(codeFor({ code_challenge: verifier, code_challenge_method: method }), { code_verifier: s256(verifier) });

      expect(right.status).toBe(200);
      expect(body(hashed).error).toBe('invalid_grant');
    });

    it('still refuses a missing verifier when a challenge was sent: invalid_grant', () => {
      const response = exchange(codeFor({}), { code_verifier: undefined });

      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_grant', error_description: 'Missing code verifier.' });
    });
  });

  describe('discovery', () => {
    it('publishes Google’s fields, with the endpoints where the emulator serves them', () => {
      const served = new GoogleEmulator({
        issuer: 'https://accounts.google.com',
        baseUrl: 'http://127.0.0.1:9/_emulator/google',
        clients: [CLIENT],
        state: { signingKeyPem, grants: { grants: [], accessTokens: [] } },
      });

      const response = served.discovery();

      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        issuer: 'https://accounts.google.com',
        authorization_endpoint: 'http://127.0.0.1:9/_emulator/google/o/oauth2/v2/auth',
        token_endpoint: 'http://127.0.0.1:9/_emulator/google/token',
        userinfo_endpoint: 'http://127.0.0.1:9/_emulator/google/v1/userinfo',
        revocation_endpoint: 'http://127.0.0.1:9/_emulator/google/revoke',
        jwks_uri: 'http://127.0.0.1:9/_emulator/google/oauth2/v3/certs',
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        authorization_response_iss_parameter_supported: true,
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'profile'],
        claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        code_challenge_methods_supported: ['plain', 'S256'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
      });
      expect(body(emulator.discovery()).issuer).toBe(ISSUER);
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

  describe('userinfo errors', () => {
    it('answers 401 with Google’s body and an RFC 6750 challenge: the realm without a token, invalid_token with a bad one', () => {
      const missing = emulator.userinfo(undefined);
      const invalid = emulator.userinfo('Bearer ya29.unknown');

      for (const response of [missing, invalid]) {
        expect(response).toMatchObject({ status: 401, body: { error: 'invalid_request', error_description: 'Invalid Credentials' } });
      }
      expect(missing.headers?.['www-authenticate']).toBe(REALM);
      expect(invalid.headers?.['www-authenticate']).toBe(`${REALM}, error="invalid_token"`);
    });
  });

  describe('tokeninfo', () => {
    it('describes a live access token as Google does, every value a string', () => {
      const { access_token } = link({}, { email: 'ada@example.com' });
      now += 60_000;

      const info = emulator.tokeninfo({ access_token });

      expect(info.status).toBe(200);
      expect(info.body).toEqual({
        azp: CLIENT.clientId,
        aud: CLIENT.clientId,
        sub: expect.stringMatching(/^\d{21}$/),
        scope: LINK_SCOPES,
        exp: String(START / 1000 + 3599),
        expires_in: '3539',
        email: 'ada@example.com',
        email_verified: 'true',
        access_type: 'offline',
      });
    });

    it('reads the token from a Bearer header too, and tells an online grant without identity scopes', () => {
      const { access_token } = link({ access_type: 'online', scope: CALENDAR });

      const info = emulator.tokeninfo({}, `Bearer ${access_token}`);

      expect(info.body).toEqual({
        azp: CLIENT.clientId,
        aud: CLIENT.clientId,
        scope: CALENDAR,
        exp: String(START / 1000 + 3599),
        expires_in: '3599',
        access_type: 'online',
      });
    });

    it('describes an ID token it signed: its claims and header, as strings', () => {
      const { id_token } = link({}, { email: 'ada@example.com', name: 'Ada Lovelace' });

      const info = emulator.tokeninfo({ id_token });

      const claims = Object.fromEntries(Object.entries(decodeJwt(id_token)).map(([name, value]) => [name, String(value)]));
      expect(info.status).toBe(200);
      expect(info.body).toEqual({ ...claims, alg: 'RS256', kid: emulator.signingKey.kid, typ: 'JWT' });
      expect(body(info)).toMatchObject({ iss: ISSUER, email_verified: 'true', nonce: 'nonce-abc', exp: String(START / 1000 + 3600) });
    });

    it.each<[string, (tokens: Record<string, string>) => Params]>([
      ['an unknown access token', () => ({ access_token: 'ya29.unknown' })],
      ['a revoked access token', ({ access_token }) => (emulator.revoke({ token: access_token }), { access_token })],
      ['an expired access token', ({ access_token }) => ((now += 3600_000), { access_token })],
      ['an expired ID token', ({ id_token }) => ((now += 3601_000), { id_token })],
      [
        'an ID token signed by another key',
        ({ id_token }) => ({ id_token: EmulatorSigningKey.generate().sign(decodeJwt(id_token), { kid: emulator.signingKey.kid }) }),
      ],
      ['an ID token from another issuer', ({ id_token }) => ({ id_token: emulator.signingKey.sign({ ...decodeJwt(id_token), iss: 'https://evil.test' }) })],
      ['garbage', () => ({ id_token: 'not.a.jwt' })],
    ])('answers %s with 400 invalid_token “Invalid Value”', (_, params) => {
      const response = emulator.tokeninfo(params(link()));

      expect(response).toMatchObject({ status: 400, body: { error: 'invalid_token', error_description: 'Invalid Value' } });
    });

    it('asks for a token when none is given', () => {
      expect(emulator.tokeninfo({})).toMatchObject({
        status: 400,
        body: { error: 'invalid_token', error_description: 'Either access_token, id_token, or token_handle required' },
      });
    });
  });

  describe('the PEM certificates (/oauth2/v1/certs)', () => {
    const pem = () => body<Record<string, string>>(emulator.pemCerts())[emulator.signingKey.kid];

    it('publish the signing key as a self-signed X.509 certificate under its kid, cacheable', () => {
      const response = emulator.pemCerts();
      const certs = body<Record<string, string>>(response);
      const certificate = new X509Certificate(certs[emulator.signingKey.kid]);

      expect(Object.keys(certs)).toEqual([emulator.signingKey.kid]);
      expect(certs[emulator.signingKey.kid]).toMatch(/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n$/);
      expect(certificate.subject).toBe('CN=federated-signon.system.gserviceaccount.com');
      expect(certificate.issuer).toBe(certificate.subject);
      expect(certificate.verify(certificate.publicKey)).toBe(true);
      expect(certificate.publicKey.export({ format: 'jwk' })).toMatchObject({ n: emulator.signingKey.jwk().n, e: emulator.signingKey.jwk().e });
      expect(Date.parse(certificate.validFrom)).toBeLessThanOrEqual(now);
      expect(Date.parse(certificate.validTo)).toBeGreaterThan(now);
      expect(response.headers?.['cache-control']).toMatch(/max-age=\d+/);
    });

    it('verify an ID token the way google-auth-library does: RSA-SHA256 against the certificate', () => {
      const [header, claims, signature] = link().id_token.split('.');

      const verified = createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(pem(), Buffer.from(signature, 'base64url'));

      expect(verified).toBe(true);
    });

    it('are renewed before they expire', () => {
      const first = pem();
      now += 13 * DAY_MS + 1;

      const renewed = new X509Certificate(pem());

      expect(renewed.toString()).not.toBe(new X509Certificate(first).toString());
      expect(Date.parse(renewed.validTo)).toBeGreaterThan(now + DAY_MS);
    });
  });

  describe('persistence', () => {
    it('keeps grants and the signing key across a restart, but no token in clear', async () => {
      const tokens = link();
      const chosen = emulator.authorize(query());
      if (chosen.kind === 'valid') emulator.authorization.choose(emulator.authorization.park(chosen.request), 'grace@example.com', 'Grace');
      const saved = JSON.stringify(emulator.state());

      const restarted = new GoogleEmulator({ issuer: ISSUER, clients: [CLIENT], state: JSON.parse(saved), now: () => now });

      expect(saved).not.toContain(tokens.refresh_token);
      expect(saved).not.toContain(tokens.access_token);
      expect(restarted.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...CLIENT_AUTH }).status).toBe(200);
      expect(restarted.userinfo(`Bearer ${tokens.access_token}`).status).toBe(200);
      expect(restarted.jwks().body).toEqual(emulator.jwks().body);
      expect(restarted.authorize(query({ login_hint: 'grace@example.com' }))).toMatchObject({ account: { email: 'grace@example.com', name: 'Grace' } });
    });
  });

  describe('the Calendar events endpoint', () => {
    const events = (accessToken: string, params: Params = {}) => {
      const query = { eventTypes: 'outOfOffice', singleEvents: 'true', orderBy: 'startTime', ...params };
      const defined = Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined);
      return emulator.events(`Bearer ${accessToken}`, 'primary', new URLSearchParams(defined));
    };

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

    it('honours repeated eventTypes, and serves every type when there is none', () => {
      const { access_token } = link();
      emulator.calendar.setEvents('ada@example.com', [
        { id: 'away', summary: 'Away', eventType: 'outOfOffice', start: { date: '2030-02-01' }, end: { date: '2030-02-02' } },
        { id: 'focus', summary: 'Focus', eventType: 'focusTime', start: { dateTime: '2030-02-02T09:00:00Z' }, end: { dateTime: '2030-02-02T11:00:00Z' } },
        { id: 'meeting', summary: 'Meeting', eventType: 'default', start: { dateTime: '2030-02-03T09:00:00Z' }, end: { dateTime: '2030-02-03T10:00:00Z' } },
      ]);
      const ids = (...types: string[]) => {
        const query = new URLSearchParams([['timeMin', '2030-01-01T00:00:00Z'], ...types.map((type): [string, string] => ['eventTypes', type])]);
        return body(emulator.events(`Bearer ${access_token}`, 'primary', query)).items.map((item: { id: string }) => item.id);
      };

      expect(ids('outOfOffice', 'focusTime')).toEqual(['away', 'focus']);
      expect(ids('default')).toEqual(['meeting']);
      expect(ids()).toEqual(['away', 'focus', 'meeting']);
    });

    it('refuses an event type Google does not know (one type a parameter, not a comma list)', () => {
      const { access_token } = link();

      const response = events(access_token, { eventTypes: 'outOfOffice,default' });

      expect(response.status).toBe(400);
      expect(body(response).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    });

    it('challenges as RFC 6750 says: the realm without a token, invalid_token with a bad one, insufficient_scope without calendar access', () => {
      const { access_token } = link({ scope: 'openid email' });

      const missing = emulator.events(undefined, 'primary', new URLSearchParams());
      const invalid = emulator.events('Bearer ya29.unknown', 'primary', new URLSearchParams());
      const forbidden = events(access_token);

      expect(missing.headers?.['www-authenticate']).toBe(REALM);
      expect(body(missing).error.message).toMatch(/^Request is missing required authentication credential/);
      expect(invalid.headers?.['www-authenticate']).toBe(`${REALM}, error="invalid_token"`);
      expect(body(invalid).error.message).toMatch(/^Request had invalid authentication credentials/);
      expect(forbidden.headers?.['www-authenticate']).toMatch(
        /^Bearer realm="https:\/\/accounts\.google\.com\/", error="insufficient_scope", scope="[^"]*calendar\.events\.readonly/,
      );
    });

    it('refuses a time without an offset, as Google does', () => {
      const { access_token } = link();

      expect(events(access_token, { timeMin: '2030-02-01T09:00:00' }).status).toBe(400);
    });
  });
});
