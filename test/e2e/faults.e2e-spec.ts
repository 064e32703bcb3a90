import { createHash } from 'node:crypto';
import { eventually, within } from '../support/deadline';
import { Fault, FakeGoogle } from '../support/fake-google';
import { auditActions, CALENDAR_EVENTS_READONLY, linkOutcome, person, Person, startLink, storedLink } from '../support/google-flows';
import { Reply } from '../support/http-client';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The fault matrix: every Google endpoint the service calls × every way it can fail. Combinations
 * already proven elsewhere are not repeated here: link token exchange 500/slow/garbage/closed and
 * JWKS 503 (link.e2e-spec.ts), sign-in token 500 (sign-in.e2e-spec.ts), refresh 500/slow/garbage/
 * closed and Calendar 503/slow/garbage (out-of-office.e2e-spec.ts), revoke 503 on unlink (link.e2e-spec.ts).
 */
const TIMEOUT_MS = 300;
// Every request must end well within the Google timeout plus a margin; this bound catches hangs, not slowness.
const NO_HANG_MS = 5_000;
const OOO = '/api/v1/users/me/google/out-of-office';
// These suites drive far more than 60 auth requests a minute from one address; rate limits are not their subject.
const QUIET_LIMITS = { AUTH_RATE_LIMIT: '100000' };

type FaultName = '500' | '429' | 'slow' | 'closed' | 'garbage';
const FAULTS: Record<FaultName, Fault> = {
  '500': { status: 500, body: { error: 'internal_failure' } },
  '429': { status: 429, body: { error: 'rate_limit_exceeded', error_description: 'Rate Limit Exceeded' } },
  slow: { delayMs: TIMEOUT_MS * 5 },
  closed: { close: true },
  garbage: { garbage: true },
};
const ALL: FaultName[] = ['500', '429', 'slow', 'closed', 'garbage'];
const cases = (names: FaultName[]) => names.map((name) => [name, FAULTS[name]] as const);

const stateOf = (authorizationUrl: string) => new URL(authorizationUrl).searchParams.get('state')!;
const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** True while the flow's state could still be presented (a used one stays, marked used, until purged). */
async function stateKept(app: TestApp, authorizationUrl: string): Promise<boolean> {
  return (await app.database.query('SELECT 1 FROM oauth_states WHERE state_hash = $1 AND used_at IS NULL', [sha256(stateOf(authorizationUrl))])).length > 0;
}

async function revocationsOf(app: TestApp, userId: string): Promise<number> {
  return (await app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [userId])).length;
}

/** A link round trip whose callback must answer in time. */
async function link(google: FakeGoogle, someone: Person, choice: Parameters<FakeGoogle['consent']>[1]) {
  const consentUrl = await startLink(someone);
  const callbackUrl = await google.consent(consentUrl, choice);
  const reply = await within(NO_HANG_MS, () => someone.browser.get(callbackUrl));
  return { reply, consentUrl };
}

/** An anonymous browser signing in; the callback must answer in time. */
async function signIn(app: TestApp, google: FakeGoogle, email: string) {
  const browser = app.client();
  const start = await browser.get('/api/v1/auth/google');
  const callbackUrl = await google.consent(start.location!, { email });
  const reply = await within(NO_HANG_MS, () => browser.get(callbackUrl));
  return { reply, consentUrl: start.location! };
}

async function expectNoUser(app: TestApp, email: string) {
  expect(await app.database.query('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
}

/** A failed link leaves nothing behind: no link, no audit event, no queued revocation, the state consumed. */
async function expectNothingLinked(app: TestApp, someone: Person, consentUrl: string) {
  expect(await storedLink(app, someone.user.id)).toBeNull();
  expect(await auditActions(app, someone.user.id)).toEqual([]);
  expect(await revocationsOf(app, someone.user.id)).toBe(0);
  expect(await stateKept(app, consentUrl)).toBe(false);
}

/** The revocation outbox eventually empties and the grant is dead at Google. */
async function expectRevokedEventually(app: TestApp, google: FakeGoogle, userId: string, token: string) {
  expect(await eventually(async () => !google.isLive(token) && (await revocationsOf(app, userId)) === 0)).toBe(true);
}

describe('Google faults: every endpoint × 500, 429, slow, closed connection, garbage (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), ...QUIET_LIMITS, GOOGLE_HTTP_TIMEOUT_MS: String(TIMEOUT_MS), REVOCATION_RETRY_SECONDS: '1' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  const linked = async (): Promise<Person> => {
    const someone = await person(app, uniqueEmail('faults', 'gmail.com'));
    const { reply } = await link(google, someone, { email: someone.user.email });
    if (linkOutcome(reply).link !== 'success') throw new Error(`setup link failed: ${reply.location}`);
    return someone;
  };

  it.each(cases(['429']))('token (link) × %s → google_error, nothing stored', async (_, fault) => {
    const ada = await person(app);
    google.fail('token', fault);

    const { reply, consentUrl } = await link(google, ada, { email: ada.user.email });

    expect(reply.status).toBe(302);
    expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_error' });
    await expectNothingLinked(app, ada, consentUrl);
  });

  it.each(cases(['429', 'slow', 'closed', 'garbage']))('token (sign-in) × %s → google_error, no user, no session', async (_, fault) => {
    const email = uniqueEmail('signin-fault', 'gmail.com');
    google.fail('token', fault);

    const { reply, consentUrl } = await signIn(app, google, email);

    expect(reply.status).toBe(302);
    expect(linkOutcome(reply)).toMatchObject({ login: 'error', reason: 'google_error' });
    expect(reply.headers.getSetCookie().some((cookie) => cookie.startsWith('sid='))).toBe(false);
    await expectNoUser(app, email);
    expect(await stateKept(app, consentUrl)).toBe(false);
  });

  it.each(cases(['429']))('refresh × %s → 502 google_unavailable, the stored tokens untouched', async (_, fault) => {
    const ada = await linked();
    await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [ada.user.id]);
    const before = (await storedLink(app, ada.user.id))!;
    google.fail('refresh', fault);

    const reply = await within(NO_HANG_MS, () => app.client(ada.bearer).get(OOO));

    expect(reply.status).toBe(502);
    expect(reply.json()).toEqual({ statusCode: 502, code: 'google_unavailable', message: expect.any(String) });
    expect(await storedLink(app, ada.user.id)).toEqual(before);
  });

  it.each(cases(['500', '429', 'closed']))('calendar × %s → 502 google_unavailable, the link untouched', async (_, fault) => {
    const ada = await linked();
    const before = (await storedLink(app, ada.user.id))!;
    google.fail('calendar', fault);

    const reply = await within(NO_HANG_MS, () => app.client(ada.bearer).get(OOO));

    expect(reply.status).toBe(502);
    expect(reply.json()).toEqual({ statusCode: 502, code: 'google_unavailable', message: expect.any(String) });
    expect(await storedLink(app, ada.user.id)).toEqual(before);
  });

  it.each(cases(['500', '429', 'slow', 'closed', 'garbage']))(
    'revoke (unlink) × %s → 204, link gone at once, revocation retried until done',
    async (_, fault) => {
      const ada = await linked();
      const { refreshToken } = (await storedLink(app, ada.user.id))!;
      google.fail('revoke', fault);

      const reply = await within(NO_HANG_MS, () => app.client(ada.bearer).delete('/api/v1/users/me/google'));

      expect(reply.status).toBe(204);
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect((await auditActions(app, ada.user.id)).map((event) => event.action)).toEqual(['google.linked', 'google.unlinked']);
      await expectRevokedEventually(app, google, ada.user.id, refreshToken);
    },
  );

  it.each(cases(ALL))('revoke (relink to another Google account) × %s → success, the old grant revoked once Google answers', async (_, fault) => {
    const ada = await linked();
    const old = (await storedLink(app, ada.user.id))!;
    google.fail('revoke', fault);

    const { reply } = await link(google, ada, { email: uniqueEmail('second-account', 'gmail.com') });

    expect(linkOutcome(reply)).toMatchObject({ link: 'success' });
    const current = (await storedLink(app, ada.user.id))!;
    expect(current.google_user_id).not.toBe(old.google_user_id);
    expect((await auditActions(app, ada.user.id)).map((event) => event.action)).toEqual(['google.linked', 'google.relinked']);
    await expectRevokedEventually(app, google, ada.user.id, old.refreshToken);
    expect(google.isLive(current.refreshToken)).toBe(true);
  });

  it.each(cases(ALL))(
    'revoke (refused partial grant) × %s → missing_scopes, nothing stored, the partial grant revoked once Google answers',
    async (_, fault) => {
      const ada = await person(app, uniqueEmail('partial', 'gmail.com'));
      google.resetRequests();
      google.fail('revoke', fault);

      const { reply, consentUrl } = await link(google, ada, { email: ada.user.email, grantScopes: [] });

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'missing_scopes' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect(await auditActions(app, ada.user.id)).toEqual([]);
      expect(await stateKept(app, consentUrl)).toBe(false);
      const [refused] = google.requests('revoke');
      expect(refused?.form.token).toBeTruthy();
      await expectRevokedEventually(app, google, ada.user.id, refused.form.token);
    },
  );
});

describe('Google faults on userinfo: linking without openid (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({
      ...google.env(),
      ...QUIET_LIMITS,
      GOOGLE_HTTP_TIMEOUT_MS: String(TIMEOUT_MS),
      GOOGLE_LINK_SCOPES: `email profile ${CALENDAR_EVENTS_READONLY}`,
    });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it('identifies the account through userinfo when the grant has no ID token', async () => {
    const ada = await person(app, uniqueEmail('userinfo', 'gmail.com'));
    google.resetRequests();

    const { reply } = await link(google, ada, { email: ada.user.email });

    expect(linkOutcome(reply)).toMatchObject({ link: 'success' });
    const [userinfo] = google.requests('userinfo');
    expect(google.requests('userinfo')).toHaveLength(1);
    expect(userinfo.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(userinfo.query).toEqual({});
    expect((await storedLink(app, ada.user.id))?.google_user_id).toMatch(/^\d+$/);
  });

  it.each(cases(ALL))('userinfo × %s → google_error, nothing stored', async (_, fault) => {
    const ada = await person(app, uniqueEmail('userinfo-fault', 'gmail.com'));
    google.fail('userinfo', fault);

    const { reply, consentUrl } = await link(google, ada, { email: ada.user.email });

    expect(reply.status).toBe(302);
    expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_error' });
    await expectNothingLinked(app, ada, consentUrl);
  });
});

describe('Google faults on the key set (JWKS): sign-in, token exchange, link (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  // The key set is cached once loaded, so this app must never load it before the last test:
  // every fault is injected for all requests (jose refetches while it has no key set).
  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), ...QUIET_LIMITS, GOOGLE_HTTP_TIMEOUT_MS: String(TIMEOUT_MS) });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it.each(cases(ALL))('jwks × %s → sign-in google_error, token exchange 502 google_unavailable (not 401), link google_error', async (_, fault) => {
    google.fail('jwks', fault, Infinity);
    const email = uniqueEmail('jwks-fault', 'gmail.com');
    const ada = await person(app, uniqueEmail('jwks-link', 'gmail.com'));

    const signedIn = await signIn(app, google, email);
    const exchanged: Reply = await within(NO_HANG_MS, async () =>
      app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email }) }),
    );
    const linkedUp = await link(google, ada, { email: ada.user.email });

    expect(linkOutcome(signedIn.reply)).toMatchObject({ login: 'error', reason: 'google_error' });
    expect(exchanged.status).toBe(502);
    expect(exchanged.json()).toEqual({ statusCode: 502, code: 'google_unavailable', message: expect.any(String) });
    expect(linkOutcome(linkedUp.reply)).toMatchObject({ link: 'error', reason: 'google_error' });
    await expectNoUser(app, email);
    expect(await stateKept(app, signedIn.consentUrl)).toBe(false);
    await expectNothingLinked(app, ada, linkedUp.consentUrl);
    expect(google.requests('jwks').length).toBeGreaterThan(0);
  });

  it('recovers once the key set answers again: the same flows succeed', async () => {
    const email = uniqueEmail('jwks-back', 'gmail.com');
    const ada = await person(app, uniqueEmail('jwks-back-link', 'gmail.com'));

    const signedIn = await signIn(app, google, email);
    const exchanged = await app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email }) });
    const linkedUp = await link(google, ada, { email: ada.user.email });

    expect(signedIn.reply.location).toBe(`${app.url}/users/me`);
    expect(exchanged.status).toBe(200);
    expect(linkOutcome(linkedUp.reply)).toMatchObject({ link: 'success' });
  });
});
