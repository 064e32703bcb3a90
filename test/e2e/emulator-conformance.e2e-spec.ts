import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library';
import * as oidc from 'openid-client';
import { EMULATOR_PATH } from '../../src/config/app-config';
import { FakeGoogle } from '../support/fake-google';
import { person, startLink } from '../support/google-flows';
import { HttpClient } from '../support/http-client';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

// Conformance: two client libraries nobody here wrote, openid-client (JWKS verifier) and Google's
// google-auth-library (PEM verifier), run unchanged against the emulator, configured only with its
// endpoints (and allowInsecureRequests, as it is plain http on loopback). Both adapters of the one
// protocol core are driven: the in-app emulator of local mode and the e2e tests' fake Google.
// If the emulator drifts from what the libraries expect of Google, these fail.

const REDIRECT_URI = 'http://localhost:5173/auth/callback';
const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const SCOPES = ['openid', 'email', 'profile', CALENDAR];

interface Target {
  /** The emulator's base URL: `${base}/.well-known/openid-configuration` is its discovery document. */
  base: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The person in the browser: from the authorization URL to where the emulator sends the browser back. */
  signIn(authorizationUrl: URL, email: string): Promise<URL>;
  close(): Promise<void>;
}

/** Clicks through the in-app emulator's account chooser and consent screen, ticking every scope. */
async function clickThrough(browser: HttpClient, authorizationUrl: URL, email: string): Promise<URL> {
  const field = (html: string, name: string) => [...html.matchAll(new RegExp(`name="${name}" value="([^"]+)"`, 'g'))].map((match) => match[1]);
  const form = (fields: Array<[string, string]>) => ({
    rawBody: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const chooser = await browser.get(authorizationUrl.toString());
  if (chooser.status !== 200) throw new Error(`the emulator answered the authorization request with ${chooser.status}: ${chooser.location ?? chooser.body}`);
  const [request] = field(chooser.body, 'request');
  const chosen = await browser.request(
    'POST',
    `${EMULATOR_PATH}/signin`,
    form([
      ['request', request],
      ['email', email],
    ]),
  );
  const consentPage = await browser.get(chosen.location!);
  const scopes = field(consentPage.body, 'scope').map((scope): [string, string] => ['scope', scope]);
  const decided = await browser.request('POST', `${EMULATOR_PATH}/consent`, form([['request', request], ['action', 'allow'], ...scopes]));
  return new URL(decided.location!);
}

async function inAppEmulator(env: Record<string, string> = {}): Promise<Target & { app: TestApp }> {
  const app = await startTestApp({ GOOGLE_EMULATOR_CLIENTS: JSON.stringify([{ clientId: 'conformance-app', redirectUris: [REDIRECT_URI] }]), ...env });
  // What a developer does: read the client's secret from the start-up lines.
  const announced = app.logs.map((line) => /client_id=conformance-app client_secret=(\S+)/.exec(line)?.[1]).find(Boolean);
  if (!announced) throw new Error(`the start-up lines name no secret for conformance-app:\n${app.logs.join('\n')}`);
  const base = `${app.url}${EMULATOR_PATH}`;
  const discovered = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
  return {
    app,
    base,
    issuer: (discovered as { issuer: string }).issuer,
    clientId: 'conformance-app',
    clientSecret: announced,
    signIn: (url, email) => clickThrough(app.client(), url, email),
    close: () => app.close(),
  };
}

async function fakeGoogle(): Promise<Target> {
  const fake = await FakeGoogle.start({ issuer: (url) => url });
  fake.redirectUri = REDIRECT_URI;
  return {
    base: fake.url,
    issuer: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    signIn: async (url, email) => new URL(await fake.consent(url.toString(), { email })),
    close: () => fake.stop(),
  };
}

/** google-auth-library pointed at the emulator: its endpoints, and (unless the emulator issues as Google) its issuer. */
function googleAuthClient(target: Target, issuers: string[] | undefined = [target.issuer]): OAuth2Client {
  return new OAuth2Client({
    clientId: target.clientId,
    clientSecret: target.clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: {
      oauth2AuthBaseUrl: `${target.base}/o/oauth2/v2/auth`,
      oauth2TokenUrl: `${target.base}/token`,
      oauth2RevokeUrl: `${target.base}/revoke`,
      oauth2FederatedSignonPemCertsUrl: `${target.base}/oauth2/v1/certs`,
      oauth2FederatedSignonJwkCertsUrl: `${target.base}/oauth2/v3/certs`,
      tokenInfoUrl: `${target.base}/tokeninfo`,
    },
    ...(issuers ? { issuers } : {}),
  });
}

/** Google's way with google-auth-library: PKCE S256, offline access, then the code for tokens. */
async function googleAuthSignIn(target: Target, client: OAuth2Client, email: string) {
  const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
  const url = client.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: SCOPES,
    state: 'state-1',
    code_challenge_method: CodeChallengeMethod.S256,
    code_challenge: codeChallenge,
  });
  const callback = await target.signIn(new URL(url), email);
  expect(callback.searchParams.get('state')).toBe('state-1');
  const { tokens } = await client.getToken({ code: callback.searchParams.get('code')!, codeVerifier });
  client.setCredentials(tokens);
  return tokens;
}

const calendarQuery = () =>
  new URLSearchParams([
    ['eventTypes', 'outOfOffice'],
    ['eventTypes', 'default'],
    ['singleEvents', 'true'],
    ['orderBy', 'startTime'],
    ['timeMin', new Date().toISOString()],
  ]);

const targets: Array<[string, () => Promise<Target>]> = [
  ['the in-app emulator (local mode)', () => inAppEmulator()],
  ['the e2e tests’ fake Google', fakeGoogle],
];

describe.each(targets)('Google’s client libraries against %s (conformance, e2e)', (_, start) => {
  let target: Target;

  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.close();
  });

  describe('openid-client', () => {
    let config: oidc.Configuration;

    beforeAll(async () => {
      config = await oidc.discovery(new URL(target.base), target.clientId, target.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
      // Verify ID token signatures too, with openid-client's own verifier over the discovered jwks_uri.
      oidc.enableNonRepudiationChecks(config);
    });

    const signIn = async (email: string, pkce: { method: 'S256' | 'plain'; sendVerifier?: boolean } = { method: 'S256' }) => {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: SCOPES.join(' '),
        code_challenge: pkce.method === 'S256' ? await oidc.calculatePKCECodeChallenge(verifier) : verifier,
        code_challenge_method: pkce.method,
        state,
        nonce,
        access_type: 'offline',
        prompt: 'consent',
      });
      const callback = await target.signIn(url, email);
      return oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pkce.sendVerifier === false ? undefined : verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
    };

    it('discovers the emulator: its issuer, PKCE and RFC 9207 support', () => {
      const metadata = config.serverMetadata();

      expect(metadata.issuer).toBe(target.issuer);
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
      expect(config.serverMetadata().supportsPKCE('S256')).toBe(true);
      expect(config.serverMetadata().supportsPKCE('plain')).toBe(true);
    });

    it('signs in (PKCE S256, state, nonce, iss), verifies the ID token, reads userinfo and the Calendar, refreshes and revokes', async () => {
      const email = uniqueEmail('oidc');

      const tokens = await signIn(email);
      const claims = tokens.claims()!;
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      const events = await oidc.fetchProtectedResource(
        config,
        tokens.access_token,
        new URL(`${target.base}/calendar/v3/calendars/primary/events?${calendarQuery().toString()}`),
        'GET',
      );
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      await oidc.tokenRevocation(config, tokens.refresh_token!);
      const afterRevocation = await oidc.refreshTokenGrant(config, tokens.refresh_token!).catch((error: unknown) => error);
      const userinfoAfterRevocation = await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub).catch((error: unknown) => error);

      expect(claims).toMatchObject({ iss: target.issuer, aud: target.clientId, azp: target.clientId, email, email_verified: true });
      expect(claims.sub).toMatch(/^\d{21}$/);
      expect(tokens.scope?.split(' ').sort()).toEqual([...SCOPES].sort());
      expect(userinfo).toMatchObject({ sub: claims.sub, email, email_verified: true });
      expect(events.status).toBe(200);
      const items = ((await events.json()) as { items: Array<{ eventType: string }> }).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((item) => item.eventType === 'outOfOffice' || item.eventType === 'default')).toBe(true);
      expect(refreshed.access_token).not.toBe(tokens.access_token);
      expect(refreshed.claims()?.sub).toBe(claims.sub);
      expect(afterRevocation).toMatchObject({ error: 'invalid_grant' });
      // A 401 with an RFC 6750 challenge, which openid-client parses.
      expect(userinfoAfterRevocation).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
      expect(userinfoAfterRevocation).toMatchObject({ status: 401, cause: [{ scheme: 'bearer', parameters: { error: 'invalid_token' } }] });
    });

    it('takes PKCE plain, as Google does', async () => {
      const tokens = await signIn(uniqueEmail('plain'), { method: 'plain' });

      expect(tokens.access_token).toMatch(/^ya29\./);
    });

    it('refuses the code exchange without the verifier when a challenge was sent', async () => {
      await expect(signIn(uniqueEmail('no-verifier'), { method: 'S256', sendVerifier: false })).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('google-auth-library', () => {
    it('signs in with PKCE, verifies the ID token from the PEM certificates, reads tokeninfo, userinfo and the Calendar, refreshes and revokes', async () => {
      const email = uniqueEmail('gal');
      const client = googleAuthClient(target);

      const tokens = await googleAuthSignIn(target, client, email);
      const ticket = await client.verifyIdToken({ idToken: tokens.id_token!, audience: target.clientId });
      const info = await client.getTokenInfo(tokens.access_token!);
      const userinfo = await client.request<{ sub: string; email: string }>({ url: `${target.base}/v1/userinfo` });
      const events = await client.request<{ items: Array<{ eventType: string }> }>({
        url: `${target.base}/calendar/v3/calendars/primary/events?${calendarQuery().toString()}`,
      });
      const later = googleAuthClient(target);
      later.setCredentials({ refresh_token: tokens.refresh_token });
      const refreshed = await later.getAccessToken();
      await client.revokeToken(tokens.refresh_token!);
      const afterRevocation = googleAuthClient(target);
      afterRevocation.setCredentials({ refresh_token: tokens.refresh_token });

      const payload = ticket.getPayload()!;
      expect(payload).toMatchObject({ iss: target.issuer, aud: target.clientId, email, email_verified: true });
      expect(info).toMatchObject({ aud: target.clientId, azp: target.clientId, sub: payload.sub, email, access_type: 'offline' });
      expect(info.scopes.sort()).toEqual([...SCOPES].sort());
      expect(info.expiry_date).toBeGreaterThan(Date.now());
      expect(userinfo.data).toMatchObject({ sub: payload.sub, email });
      expect(events.data.items.length).toBeGreaterThan(0);
      expect(refreshed.token).toMatch(/^ya29\./);
      expect(refreshed.token).not.toBe(tokens.access_token);
      await expect(afterRevocation.getAccessToken()).rejects.toMatchObject({ response: { status: 400, data: { error: 'invalid_grant' } } });
    });

    it('rejects an ID token for another audience with its own verifier', async () => {
      const client = googleAuthClient(target);
      const tokens = await googleAuthSignIn(target, client, uniqueEmail('aud'));

      await expect(client.verifyIdToken({ idToken: tokens.id_token!, audience: 'someone-else.apps.googleusercontent.com' })).rejects.toThrow(/audience/);
    });

    it('signs in without PKCE, which Google leaves optional', async () => {
      const client = googleAuthClient(target);
      const url = client.generateAuthUrl({ scope: SCOPES, state: 'state-2' });

      const callback = await target.signIn(new URL(url), uniqueEmail('no-pkce'));
      const { tokens } = await client.getToken(callback.searchParams.get('code')!);

      expect(tokens.access_token).toMatch(/^ya29\./);
      expect(tokens.refresh_token).toBeUndefined();
    });
  });
});

describe('with GOOGLE_EMULATOR_ISSUER=google: ID tokens say https://accounts.google.com (conformance, e2e)', () => {
  let target: Target & { app: TestApp };

  beforeAll(async () => {
    target = await inAppEmulator({ GOOGLE_EMULATOR_ISSUER: 'google' });
  });
  afterAll(async () => {
    await target?.close();
  });

  it('satisfies google-auth-library’s default issuer list: no issuers option', async () => {
    const client = googleAuthClient(target, undefined);
    const email = uniqueEmail('google-issuer');

    const tokens = await googleAuthSignIn(target, client, email);
    const ticket = await client.verifyIdToken({ idToken: tokens.id_token!, audience: target.clientId });

    expect(target.issuer).toBe('https://accounts.google.com');
    expect(ticket.getPayload()).toMatchObject({ iss: 'https://accounts.google.com', email });
  });

  it('still links google-link’s own users: the service expects Google’s issuer from the emulator', async () => {
    const ada = await person(target.app);
    const consentUrl = new URL(await startLink(ada));

    const callback = await clickThrough(ada.browser, consentUrl, ada.user.email);
    const landed = await ada.browser.get(`${callback.pathname}${callback.search}`);

    expect(callback.searchParams.get('iss')).toBe('https://accounts.google.com');
    expect(landed.location).toBe(`${target.app.url}/users/me?google_link=success`);
  });

  it('is refused by openid-client’s discovery, which wants the issuer it fetched from: the trade-off', async () => {
    const discovery = oidc.discovery(new URL(target.base), target.clientId, target.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });

    await expect(discovery).rejects.toThrow(/issuer/i);
  });
});
