import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AppConfig, EMULATOR_PATH, loadConfig } from '../../src/config/app-config';
import { Person, person, startLink } from '../support/google-flows';
import type { HttpClient, Reply } from '../support/http-client';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const SCOPES = `openid email profile ${CALENDAR}`;

const formBody = (fields: Array<[string, string]>) => new URLSearchParams(fields).toString();
const requestIdIn = (html: string) => /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** A browser at the emulator: builds authorization URLs the way the service does and clicks through the pages. */
class EmulatorBrowser {
  readonly verifier = randomBytes(32).toString('base64url');

  constructor(
    private readonly client: HttpClient,
    private readonly config: AppConfig,
  ) {}

  authorizationPath(overrides: Record<string, string | undefined> = {}): string {
    const params: Record<string, string | undefined> = {
      client_id: this.config.google.clientId,
      redirect_uri: this.config.google.callbackUrl,
      response_type: 'code',
      scope: SCOPES,
      state: 'state-xyz',
      code_challenge: createHash('sha256').update(this.verifier).digest('base64url'),
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      nonce: 'nonce-123',
      ...overrides,
    };
    const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return `${EMULATOR_PATH}/o/oauth2/v2/auth?${new URLSearchParams(defined).toString()}`;
  }

  open(overrides: Record<string, string | undefined> = {}): Promise<Reply> {
    return this.client.get(this.authorizationPath(overrides));
  }

  post(path: string, fields: Array<[string, string]>): Promise<Reply> {
    return this.client.request('POST', path, { rawBody: formBody(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  /** Chooser → consent page; returns the consent page. */
  async chooseAccount(email: string, overrides: Record<string, string | undefined> = {}): Promise<Reply> {
    const chooser = await this.open(overrides);
    const chosen = await this.post(`${EMULATOR_PATH}/signin`, [
      ['request', requestIdIn(chooser.body)],
      ['email', email],
      ['name', 'Ada Lovelace'],
    ]);
    expect(chosen.status).toBe(303);
    return this.client.get(chosen.location!);
  }

  /** The whole consent; returns where the emulator redirects the browser. */
  async consent(email: string, action: 'allow' | 'cancel', ticked: string[] = [CALENDAR], overrides: Record<string, string | undefined> = {}): Promise<URL> {
    const consentPage = await this.chooseAccount(email, overrides);
    const fields: Array<[string, string]> = [
      ['request', requestIdIn(consentPage.body)],
      ['action', action],
      ...ticked.map((scope): [string, string] => ['scope', scope]),
    ];
    const decided = await this.post(`${EMULATOR_PATH}/consent`, fields);
    expect(decided.status).toBe(302);
    return new URL(decided.location!);
  }

  async tokens(code: string): Promise<Record<string, any>> {
    const reply = await this.post(`${EMULATOR_PATH}/token`, [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['redirect_uri', this.config.google.callbackUrl],
      ['code_verifier', this.verifier],
      ['client_id', this.config.google.clientId],
      ['client_secret', this.config.google.clientSecret],
    ]);
    expect(reply.status).toBe(200);
    return reply.json();
  }

  refresh(refreshToken: string): Promise<Reply> {
    return this.post(`${EMULATOR_PATH}/token`, [
      ['grant_type', 'refresh_token'],
      ['refresh_token', refreshToken],
      ['client_id', this.config.google.clientId],
      ['client_secret', this.config.google.clientSecret],
    ]);
  }
}

describe('the built-in Google emulator (local mode, e2e)', () => {
  let app: TestApp;
  let config: AppConfig;
  let browser: EmulatorBrowser;

  beforeAll(async () => {
    app = await startTestApp();
    // The service's own view of its configuration: client id and the secret it generated in DATA_DIR.
    config = loadConfig(app.env);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    browser = new EmulatorBrowser(app.client(), config);
  });

  it('points the service at itself: issuer and endpoints under /_emulator/google', () => {
    expect(config.google.emulator).toBe(true);
    expect(config.google.issuers).toEqual([`${app.url}${EMULATOR_PATH}`]);
  });

  it('renders the account chooser as escaped HTML, prefilled from login_hint, marked as the emulator', async () => {
    const hint = 'ada"><script>alert(1)</script>@example.com';

    const reply = await browser.open({ login_hint: hint });

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    expect(reply.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(reply.body).toContain('Google emulator — local mode');
    expect(reply.body).not.toContain('<script>alert(1)</script>');
    expect(reply.body).toContain('value="ada&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;@example.com"');
    expect(reply.body).toMatch(/<label for="email">/);
  });

  it('renders the consent page with every requested scope and the chosen account', async () => {
    const email = uniqueEmail('ada');

    const reply = await browser.chooseAccount(email);

    expect(reply.status).toBe(200);
    expect(reply.body).toContain(email);
    for (const scope of SCOPES.split(' ')) expect(reply.body).toContain(`value="${scope}"`);
    expect(reply.body).toContain('value="allow"');
    expect(reply.body).toContain('value="cancel"');
  });

  it('asks again for an invalid email at the chooser', async () => {
    const chooser = await browser.open();

    const reply = await browser.post(`${EMULATOR_PATH}/signin`, [
      ['request', requestIdIn(chooser.body)],
      ['email', 'not-an-email'],
    ]);

    expect(reply.status).toBe(400);
    expect(reply.body).toContain('Enter a valid email address');
  });

  it('redirects Allow to the callback URL with code, state, the granted scopes and authuser', async () => {
    const location = await browser.consent(uniqueEmail(), 'allow');

    expect(`${location.origin}${location.pathname}`).toBe(config.google.callbackUrl);
    expect(location.searchParams.get('code')).toMatch(/^4\/0/);
    expect(location.searchParams.get('state')).toBe('state-xyz');
    expect(location.searchParams.get('scope')).toBe(SCOPES);
    expect(location.searchParams.get('authuser')).toBe('0');
  });

  it('leaves an unticked calendar scope out of the grant (granular consent)', async () => {
    const location = await browser.consent(uniqueEmail(), 'allow', []);

    expect(location.searchParams.get('scope')).toBe('openid email profile');
    expect(location.searchParams.get('code')).toBeTruthy();
  });

  it('redirects Cancel with error=access_denied, the state and its issuer', async () => {
    const location = await browser.consent(uniqueEmail(), 'cancel');

    expect(`${location.origin}${location.pathname}`).toBe(config.google.callbackUrl);
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'access_denied', state: 'state-xyz', iss: config.google.issuers[0] });
  });

  it('refuses a consent form submitted twice', async () => {
    const consentPage = await browser.chooseAccount(uniqueEmail());
    const fields: Array<[string, string]> = [
      ['request', requestIdIn(consentPage.body)],
      ['action', 'allow'],
    ];

    const first = await browser.post(`${EMULATOR_PATH}/consent`, fields);
    const second = await browser.post(`${EMULATOR_PATH}/consent`, fields);

    expect(first.status).toBe(302);
    expect(second.status).toBe(400);
    expect(second.location).toBeNull();
  });

  it.each([
    ['an unregistered redirect_uri', { redirect_uri: 'https://evil.example/callback' }],
    ['an unknown client_id', { client_id: 'someone-else.apps.googleusercontent.com' }],
  ])('shows a 400 error page for %s, without redirecting', async (_, overrides) => {
    const reply = await browser.open(overrides);

    expect(reply.status).toBe(400);
    expect(reply.location).toBeNull();
    expect(reply.headers.get('content-type')).toMatch(/^text\/html/);
    expect(reply.body).toContain('Error 400');
  });

  it('takes a request without PKCE, which Google leaves optional, and redirects an unknown PKCE method with error=invalid_request', async () => {
    const withoutPkce = await browser.open({ code_challenge: undefined, code_challenge_method: undefined });
    const unknownMethod = await browser.open({ code_challenge_method: 'S512' });

    expect(withoutPkce.status).toBe(200);
    expect(withoutPkce.body).toContain('<h1>Sign in</h1>');
    expect(unknownMethod.status).toBe(302);
    expect(new URL(unknownMethod.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('names the app, not its client id', async () => {
    const chooser = await browser.open();
    const consentPage = await browser.chooseAccount(uniqueEmail());

    expect(chooser.body).toContain('to continue to <strong>google-link</strong>');
    expect(consentPage.body).toContain('<h1>google-link wants access to your Google Account</h1>');
    expect(consentPage.body).not.toContain(config.google.clientId);
  });

  it('goes straight to consent for a login_hint naming an account signed in before, unless prompt=select_account; "Use another account" chooses again', async () => {
    const email = uniqueEmail('known');
    await browser.consent(email, 'allow');

    const hinted = await browser.open({ login_hint: email.toUpperCase() });
    const consentPage = await app.client().get(hinted.location!);
    const choosing = await browser.open({ login_hint: email, prompt: 'select_account' });
    const stranger = await browser.open({ login_hint: uniqueEmail('stranger') });
    const otherAccount = /href="([^"]+)">Use another account</.exec(consentPage.body)?.[1].replace(/&#61;/g, '=');
    const chooserAgain = await app.client().get(otherAccount!);

    expect(hinted.status).toBe(302);
    expect(new URL(hinted.location!, app.url).pathname).toBe(`${EMULATOR_PATH}/consent`);
    expect(consentPage.status).toBe(200);
    expect(consentPage.body).toContain(`<span class="account">${email}</span>`);
    expect(choosing.status).toBe(200);
    expect(choosing.body).toContain('<h1>Sign in</h1>');
    expect(stranger.status).toBe(200);
    expect(chooserAgain.status).toBe(200);
    expect(chooserAgain.body).toContain('<h1>Sign in</h1>');
    expect(requestIdIn(chooserAgain.body)).toBe(requestIdIn(consentPage.body));
  });

  it('speaks the token, ID token, userinfo, calendar and revoke protocol over HTTP', async () => {
    const email = uniqueEmail('grace');
    const location = await browser.consent(email, 'allow');
    const client = app.client();

    const tokens = await browser.tokens(location.searchParams.get('code')!);
    const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(config.google.jwksUrl)), {
      issuer: config.google.issuers,
      audience: config.google.clientId,
    });
    const userinfo = await client.get(`${EMULATOR_PATH}/v1/userinfo`, { authorization: `Bearer ${tokens.access_token}` });
    const events = await client.get(
      `${EMULATOR_PATH}/calendar/v3/calendars/primary/events?eventTypes=outOfOffice&singleEvents=true&orderBy=startTime&timeMin=${encodeURIComponent(new Date().toISOString())}`,
      { authorization: `Bearer ${tokens.access_token}` },
    );
    const revoked = await browser.post(`${EMULATOR_PATH}/revoke`, [['token', tokens.refresh_token]]);
    const afterRevoke = await browser.refresh(tokens.refresh_token);

    expect(tokens.refresh_token).toMatch(/^1\/\/0/);
    expect(tokens.access_token.length).toBeGreaterThan(223);
    expect(payload).toMatchObject({ email, email_verified: true, nonce: 'nonce-123', name: 'Ada Lovelace', sub: expect.stringMatching(/^\d{21}$/) });
    expect(userinfo.status).toBe(200);
    expect(userinfo.json()).toMatchObject({ sub: payload.sub, email });
    expect(events.status).toBe(200);
    expect(events.json().items.length).toBeGreaterThan(0);
    expect(events.json().items.every((item: { eventType: string }) => item.eventType === 'outOfOffice')).toBe(true);
    expect(revoked.status).toBe(200);
    expect(afterRevoke.status).toBe(400);
    expect(afterRevoke.json()).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  });

  it('lets a person link a Google account through the emulator pages, as after `npm start`', async () => {
    const ada = await person(app);
    const consentUrl = new URL(await startLink(ada));
    const chooser = await ada.browser.get(`${consentUrl.pathname}${consentUrl.search}`);
    const emulator = new EmulatorBrowser(ada.browser, config);
    const chosen = await emulator.post(`${EMULATOR_PATH}/signin`, [
      ['request', requestIdIn(chooser.body)],
      ['email', ada.user.email],
    ]);
    const consentPage = await ada.browser.get(chosen.location!);
    const decided = await emulator.post(`${EMULATOR_PATH}/consent`, [
      ['request', requestIdIn(consentPage.body)],
      ['action', 'allow'],
      ['scope', CALENDAR],
    ]);

    const callback = await ada.browser.get(decided.location!);
    const me = (await ada.browser.get('/api/v1/users/me')).json();
    const outOfOffice = await ada.browser.get('/api/v1/users/me/google/out-of-office');

    expect(consentUrl.origin + consentUrl.pathname).toBe(config.google.authorizationUrl);
    expect(callback.location).toBe(`${app.url}/users/me?google_link=success`);
    expect(me.googleAccount).toMatchObject({ email: ada.user.email, status: 'active', scopes: expect.arrayContaining([CALENDAR]) });
    expect(outOfOffice.status).toBe(200);
    expect(outOfOffice.json().events.length).toBeGreaterThan(0);
  });

  it('sends a signed sessions-revoked event for an account it knows to the receiver, and the session it names ends', async () => {
    const ada = await person(app);
    const consentUrl = new URL(await startLink(ada));
    const chooser = await ada.browser.get(`${consentUrl.pathname}${consentUrl.search}`);
    const emulator = new EmulatorBrowser(ada.browser, config);
    const chosen = await emulator.post(`${EMULATOR_PATH}/signin`, [
      ['request', requestIdIn(chooser.body)],
      ['email', ada.user.email],
    ]);
    const consentPage = await ada.browser.get(chosen.location!);
    const decided = await emulator.post(`${EMULATOR_PATH}/consent`, [
      ['request', requestIdIn(consentPage.body)],
      ['action', 'allow'],
      ['scope', CALENDAR],
    ]);
    await ada.browser.get(decided.location!);
    expect((await ada.browser.get('/api/v1/users/me')).json().googleAccount).toMatchObject({ status: 'active' });
    expect((await ada.browser.get('/api/v1/users/me')).status).toBe(200);

    const sent = await app.client().post(`${EMULATOR_PATH}/risc/send`, { email: ada.user.email, event: 'sessions-revoked' });
    const me = await ada.browser.get('/api/v1/users/me');
    const audit = await app.database.query<{ action: string }>(`SELECT action FROM audit_events WHERE user_id = $1 AND action LIKE 'google.%'`, [ada.user.id]);

    expect(sent.status).toBe(200);
    expect(sent.json()).toMatchObject({ event: 'sessions-revoked', email: ada.user.email, receiverStatus: 202, jti: expect.any(String) });
    expect(me.status).toBe(401);
    expect(audit.map((row) => row.action)).toContain('google.sessions_revoked');
  });

  it("puts Google's security events into plain words on users/me: a password change asked, access withdrawn until reconnected", async () => {
    const linkThroughEmulator = async (someone: Person) => {
      const consentUrl = new URL(await startLink(someone));
      const chooser = await someone.browser.get(`${consentUrl.pathname}${consentUrl.search}`);
      const emulator = new EmulatorBrowser(someone.browser, config);
      // An account signed in before goes straight to consent, as at Google.
      const consentAt =
        chooser.status === 302
          ? chooser.location!
          : (
              await emulator.post(`${EMULATOR_PATH}/signin`, [
                ['request', requestIdIn(chooser.body)],
                ['email', someone.user.email],
              ])
            ).location!;
      const consentPage = await someone.browser.get(consentAt);
      const decided = await emulator.post(`${EMULATOR_PATH}/consent`, [
        ['request', requestIdIn(consentPage.body)],
        ['action', 'allow'],
        ['scope', CALENDAR],
      ]);
      await someone.browser.get(decided.location!);
    };
    const send = (email: string, event: string) => app.client().post(`${EMULATOR_PATH}/risc/send`, { email, event });
    const ada = await person(app);
    await linkThroughEmulator(ada);
    const before = (await ada.browser.get('/api/v1/users/me')).json();

    await send(ada.user.email, 'account-credential-change-required');
    const asked = await ada.browser.get('/api/v1/users/me');
    await send(ada.user.email, 'tokens-revoked');
    const signedOut = await ada.browser.get('/api/v1/users/me');
    const again = await person(app, ada.user.email);
    const withdrawn = await again.browser.get('/api/v1/users/me');
    await linkThroughEmulator(again);
    const reconnected = (await again.browser.get('/api/v1/users/me')).json();

    expect(before.notice).toBeNull();
    expect(asked.json().notice).toBe('Google asks you to change your Google password');
    expect(signedOut.status).toBe(401);
    expect(withdrawn.json()).toMatchObject({
      notice: 'Google told us access to your Google account was withdrawn: reconnect your Google account',
      googleAccount: { status: 'needs_reauth' },
    });
    expect(`${asked.body}${withdrawn.body}`).not.toContain('schemas.openid.net');
    expect(reconnected).toMatchObject({ notice: null, googleAccount: { status: 'active' } });
  });

  it('refuses to send an event of an unknown type or for an account it does not know', async () => {
    const unknownEvent = await app.client().post(`${EMULATOR_PATH}/risc/send`, { email: 'nobody@example.com', event: 'verification-of-nothing' });
    const unknownAccount = await app.client().post(`${EMULATOR_PATH}/risc/send`, { email: uniqueEmail('stranger'), event: 'sessions-revoked' });
    const nobody = await app.client().post(`${EMULATOR_PATH}/risc/send`, { event: 'sessions-revoked' });

    expect(unknownEvent.status).toBe(400);
    expect(unknownEvent.json()).toMatchObject({ statusCode: 400, code: 'validation_failed' });
    expect(unknownAccount.status).toBe(404);
    expect(unknownAccount.json()).toMatchObject({ statusCode: 404, code: 'not_found' });
    expect(nobody.status).toBe(400);
  });

  it('shows a button per event type for each account it knows, and a button press sends the event', async () => {
    const email = uniqueEmail('buttons');
    await browser.chooseAccount(email);
    const page = await app.client().get(`${EMULATOR_PATH}/risc`);
    const pressed = await browser.post(`${EMULATOR_PATH}/risc`, [
      ['email', email],
      ['event', 'account-credential-change-required'],
    ]);

    expect(page.status).toBe(200);
    expect(page.body).toContain(email);
    for (const event of ['sessions-revoked', 'tokens-revoked', 'account-disabled', 'account-enabled', 'account-credential-change-required']) {
      expect(page.body).toContain(`name="event" value="${event}"`);
    }
    expect(pressed.status).toBe(200);
    expect(pressed.body).toContain('the app accepted it');
  });

  it('keeps emulator routes out of the OpenAPI document', async () => {
    const document = (await app.client().get('/api/docs-json')).json();

    expect(Object.keys(document.paths).filter((path) => path.startsWith(EMULATOR_PATH))).toEqual([]);
  });
});

describe('the emulator across a restart (e2e)', () => {
  it('keeps its signing key and refresh tokens in DATA_DIR', async () => {
    const first = await startTestApp();
    const config = loadConfig(first.env);
    const browser = new EmulatorBrowser(first.client(), config);
    const location = await browser.consent(uniqueEmail(), 'allow');
    const tokens = await browser.tokens(location.searchParams.get('code')!);
    const keysBefore = (await first.client().get(`${EMULATOR_PATH}/oauth2/v3/certs`)).json();
    await first.stop();

    const second = await startTestApp({ PORT: first.env.PORT, DATA_DIR: first.env.DATA_DIR }, first.database);
    try {
      const restarted = new EmulatorBrowser(second.client(), config);
      const refreshed = await restarted.refresh(tokens.refresh_token);
      const keysAfter = (await second.client().get(`${EMULATOR_PATH}/oauth2/v3/certs`)).json();

      expect(refreshed.status).toBe(200);
      expect(refreshed.json().access_token).toMatch(/^ya29\./);
      expect(keysAfter).toEqual(keysBefore);
      expect(statSync(join(first.env.DATA_DIR, 'google-emulator.json')).mode & 0o777).toBe(0o600);
    } finally {
      await second.close();
      await first.database.drop();
    }
  });
});

describe('with real Google credentials (e2e)', () => {
  it('does not mount the emulator', async () => {
    const app = await startTestApp({ GOOGLE_CLIENT_ID: 'real.apps.googleusercontent.com', GOOGLE_CLIENT_SECRET: 'real-secret' });
    try {
      const client = app.client();

      const authorize = await client.get(`${EMULATOR_PATH}/o/oauth2/v2/auth?client_id=real.apps.googleusercontent.com`);
      const certs = await client.get(`${EMULATOR_PATH}/oauth2/v3/certs`);

      expect(authorize.status).toBe(404);
      expect(certs.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
