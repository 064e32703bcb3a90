import { FakeGoogle } from '../support/fake-google';
import { linkOutcome } from '../support/google-flows';
import { HttpClient } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

describe('sign in with Google (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  /** A browser (a new, anonymous one unless given) goes to sign-in, through Google's consent, and back to the callback. */
  const signIn = async (target: TestApp, fake: FakeGoogle, choice: Parameters<FakeGoogle['consent']>[1], next?: string, browser = target.client()) => {
    const start = await browser.get(`/api/v1/auth/google${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`);
    if (start.status !== 302) throw new Error(`sign-in start answered ${start.status}`);
    const callback = await fake.consent(start.location!, choice);
    const reply = await browser.get(callback);
    return { browser, start, callback, reply };
  };
  /** Google's token response for the next code exchange, carrying an ID token with these claims. */
  const answerNextExchangeWith = async (fake: FakeGoogle, claims: Record<string, unknown>) =>
    fake.fail('token', {
      status: 200,
      body: { access_token: 'ya29.scripted', expires_in: 3599, token_type: 'Bearer', scope: 'openid email profile', id_token: await fake.signIdToken(claims) },
    });
  const hasSessionCookie = (reply: { headers: Headers }) => reply.headers.getSetCookie().some((cookie) => cookie.startsWith('sid='));
  const userByEmail = async (target: TestApp, email: string) =>
    (await target.database.query<{ id: string; google_sub: string | null }>('SELECT id, google_sub FROM users WHERE email = $1', [email]))[0];

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({
      ...google.env(),
      ADMIN_EMAILS: 'boss@gmail.com,Kate@Example.com',
      GOOGLE_ADDITIONAL_CLIENT_IDS: 'ios-client.apps.googleusercontent.com',
    });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  describe('the browser flow', () => {
    it('redirects to Google with openid email profile, PKCE S256, a nonce and prompt=select_account', async () => {
      const reply = await app.client().get('/api/v1/auth/google?next=/settings');

      expect(reply.status).toBe(302);
      const params = Object.fromEntries(new URL(reply.location!).searchParams);
      expect(params).toMatchObject({
        response_type: 'code',
        scope: 'openid email profile',
        code_challenge_method: 'S256',
        prompt: 'select_account',
        client_id: google.clientId,
      });
      expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.nonce).toBeTruthy();
      expect(params.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.access_type).not.toBe('offline');
      expect(reply.headers.getSetCookie().join()).toMatch(/g_oauth_binding=.*HttpOnly/i);
    });

    it('creates the user, sets an HttpOnly sid cookie, lands on next, and stores no Google token', async () => {
      const email = uniqueEmail('new', 'gmail.com');

      const { browser, reply } = await signIn(app, google, { email, name: 'New Person' }, '/settings?tab=1');

      expect(reply.status).toBe(302);
      expect(reply.location).toBe(`${app.url}/settings?tab=1`);
      expect(reply.headers.getSetCookie().find((cookie) => cookie.startsWith('sid='))).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/i);
      const me = await browser.get('/api/v1/users/me');
      expect(me.json()).toMatchObject({ email, name: 'New Person', role: 'user', googleAccount: null });
      const user = await userByEmail(app, email);
      expect(user.google_sub).toMatch(/^\d+$/);
      expect(await app.database.query('SELECT 1 FROM google_oauth2_users WHERE user_id = $1', [user.id])).toHaveLength(0);
      const actions = (await app.database.query<{ action: string }>('SELECT action FROM audit_events WHERE user_id = $1', [user.id])).map((row) => row.action);
      expect(actions).toEqual(expect.arrayContaining(['user.created', 'session.created']));
    });

    it('lands on /users/me without next', async () => {
      const { reply } = await signIn(app, google, { email: uniqueEmail('plain', 'gmail.com') });

      expect(reply.location).toBe(`${app.url}/users/me`);
    });

    it.each(['//evil.example', 'https://evil.example/x', '/\\evil.example', '/%2F%2Fevil.example', 'javascript:alert(1)', '%2F%2Fevil.example'])(
      'never redirects off-site for next=%p',
      async (next) => {
        const { reply } = await signIn(app, google, { email: uniqueEmail('redirect', 'gmail.com') }, next);

        expect(reply.location).toBe(`${app.url}/users/me`);
      },
    );

    it('signs an existing user in by verified email and records their Google identity', async () => {
      const email = uniqueEmail('existing', 'gmail.com');
      const existing = await signedInUser(app.database, email);

      const { browser } = await signIn(app, google, { email });

      expect((await browser.get('/api/v1/users/me')).json().id).toBe(existing.user.id);
      expect((await userByEmail(app, email)).google_sub).toMatch(/^\d+$/);
    });

    it('recognises a returning Google account by sub even when its email changed', async () => {
      const sub = String(Date.now()) + '4242';
      const { browser: first } = await signIn(app, google, { email: uniqueEmail('before', 'gmail.com'), sub });
      const firstId = (await first.get('/api/v1/users/me')).json().id;

      const { browser: second } = await signIn(app, google, { email: uniqueEmail('after', 'gmail.com'), sub });

      expect((await second.get('/api/v1/users/me')).json().id).toBe(firstId);
    });

    it("refuses another Google account presenting a bound user's verified email: google_account_mismatch, audited, nothing rebound", async () => {
      const email = uniqueEmail('owner', 'gmail.com');
      const owner = await signedInUser(app.database, email, { admin: true });
      const ownerSub = `${Date.now()}1111`;
      const otherSub = `${Date.now()}2222`;
      await signIn(app, google, { email, sub: ownerSub });

      const { browser, reply } = await signIn(app, google, { email, sub: otherSub });
      const exchange = await app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email, sub: otherSub }) });

      expect(reply.location).toBe(`${app.url}/users/me?google_login=error&reason=google_account_mismatch`);
      expect(hasSessionCookie(reply)).toBe(false);
      expect((await browser.get('/api/v1/users/me')).status).toBe(401);
      expect(exchange.status).toBe(403);
      expect(exchange.json()).toMatchObject({ statusCode: 403, code: 'google_account_mismatch' });
      expect((await userByEmail(app, email)).google_sub).toBe(ownerSub);
      const refusals = await app.database.query<{ actor_id: string | null; google_user_id: string }>(
        `SELECT actor_id, google_user_id FROM audit_events WHERE user_id = $1 AND action = 'google.account_mismatch'`,
        [owner.user.id],
      );
      expect(refusals).toEqual([
        { actor_id: null, google_user_id: otherSub },
        { actor_id: null, google_user_id: otherSub },
      ]);
    });

    it('still signs the bound Google account in by sub', async () => {
      const email = uniqueEmail('bound', 'gmail.com');
      const sub = `${Date.now()}3333`;
      const { browser: first } = await signIn(app, google, { email, sub });

      const { browser: again } = await signIn(app, google, { email, sub });

      expect((await again.get('/api/v1/users/me')).json().id).toBe((await first.get('/api/v1/users/me')).json().id);
    });

    it('answers a replayed sign-in callback (Back after signing in) in the sign-in flow: invalid_state at LOGIN_FAILED_URL, still signed in', async () => {
      const { browser, callback, reply } = await signIn(app, google, { email: uniqueEmail('back', 'gmail.com') });

      const replay = await browser.get(callback);

      expect(reply.location).toBe(`${app.url}/users/me`);
      expect(replay.location).toBe(`${app.url}/users/me?google_login=error&reason=invalid_state`);
      expect(hasSessionCookie(replay)).toBe(false);
      expect((await browser.get('/api/v1/users/me')).status).toBe(200);
    });

    it('replaces the session a browser already held when it signs in again (the old one is revoked)', async () => {
      const { browser } = await signIn(app, google, { email: uniqueEmail('first', 'gmail.com') });
      const before = browser.cookies.get('sid')!;

      await signIn(app, google, { email: uniqueEmail('second', 'gmail.com') }, undefined, browser);

      expect(browser.cookies.get('sid')).not.toBe(before);
      expect((await browser.get('/api/v1/users/me')).status).toBe(200);
      expect((await app.client({ authorization: `Bearer ${before}` }).get('/api/v1/users/me')).status).toBe(401);
    });

    it('gives ADMIN_EMAILS the admin role', async () => {
      const { browser } = await signIn(app, google, { email: 'boss@gmail.com' });

      expect((await browser.get('/api/v1/users/me')).json().role).toBe('admin');
    });

    describe('emails compare by ASCII-only lower-casing', () => {
      const KELVIN_KATE = '\u212Aate@example.com'; // K is U+212A KELVIN SIGN, which Unicode lower-cases to k
      let kate: { id: string };

      beforeAll(async () => {
        // ADMIN_EMAILS names Kate@Example.com: ASCII case does not matter.
        kate = (await signedInUser(app.database, 'kate@example.com')).user;
      });

      it('gives ADMIN_EMAILS the admin role whatever its ASCII case', async () => {
        const { browser } = await signIn(app, google, { email: 'kate@example.com', sub: `${Date.now()}5555` });

        expect((await browser.get('/api/v1/users/me')).json()).toMatchObject({ id: kate.id, role: 'admin' });
      });

      it('never makes a Kelvin-sign look-alike kate@example.com, nor gives it her admin role (callback)', async () => {
        const browser = app.client();
        const start = await browser.get('/api/v1/auth/google');
        await answerNextExchangeWith(google, { email: KELVIN_KATE, sub: `${Date.now()}6666`, nonce: new URL(start.location!).searchParams.get('nonce') });

        const reply = await browser.get(await google.consent(start.location!, { email: uniqueEmail('chooser') }));

        expect(reply.location).toBe(`${app.url}/users/me`);
        const me = (await browser.get('/api/v1/users/me')).json();
        expect(me).toMatchObject({ email: KELVIN_KATE, role: 'user' });
        expect(me.id).not.toBe(kate.id);
      });

      it('never makes a Kelvin-sign look-alike of a promoted admin that admin (token exchange)', async () => {
        const mark = (await signedInUser(app.database, 'mark@example.com', { admin: true })).user;

        const reply = await app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email: 'mar\u212A@example.com' }) });

        expect(reply.status).toBe(200);
        const me = (await app.client({ authorization: `Bearer ${reply.json().accessToken}` }).get('/api/v1/users/me')).json();
        expect(me).toMatchObject({ email: 'mar\u212A@example.com', role: 'user' });
        expect(me.id).not.toBe(mark.id);
      });

      it('stores a non-ASCII email with only A-Z lower-cased, and matches it exactly (no 500: the database agrees)', async () => {
        const first = await app
          .client()
          .post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email: 'Élodie@Example.com', sub: `${Date.now()}8888` }) });
        const other = await app
          .client()
          .post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email: 'élodie@example.com', sub: `${Date.now()}9999` }) });

        expect(first.status).toBe(200);
        expect(other.status).toBe(200);
        const emails = await app.database.query<{ email: string }>(
          `SELECT email FROM users WHERE email IN ('Élodie@example.com', 'élodie@example.com') ORDER BY email`,
        );
        expect(emails.map((row) => row.email)).toEqual(['Élodie@example.com', 'élodie@example.com']);
      });
    });

    it('refuses an unverified email: email_not_verified, no user created', async () => {
      const email = uniqueEmail('unverified', 'gmail.com');

      const { reply } = await signIn(app, google, { email, emailVerified: false });

      expect(reply.location).toBe(`${app.url}/users/me?google_login=error&reason=email_not_verified`);
      expect(await userByEmail(app, email)).toBeUndefined();
    });

    it('refuses an authorization response naming another issuer (RFC 9207 mix-up): google_error, no session, no code exchange', async () => {
      const email = uniqueEmail('mixup', 'gmail.com');
      const browser = app.client();
      const start = await browser.get('/api/v1/auth/google');
      const callback = new URL(await google.consent(start.location!, { email }));
      callback.searchParams.set('iss', 'https://attacker.example');
      const exchangesBefore = google.requests('token').length;

      const reply = await browser.get(callback.toString());

      expect(reply.location).toBe(`${app.url}/users/me?google_login=error&reason=google_error`);
      expect(reply.headers.getSetCookie().some((cookie) => cookie.startsWith('sid='))).toBe(false);
      expect(google.requests('token').length).toBe(exchangesBefore);
      expect(await userByEmail(app, email)).toBeUndefined();
    });

    it('answers a cancelled sign-in with access_denied', async () => {
      const { reply } = await signIn(app, google, { email: uniqueEmail(), cancel: true });

      expect(reply.status).toBe(302);
      expect(reply.location).toBe(`${app.url}/users/me?google_login=error&reason=access_denied`);
    });

    it('answers a failing token endpoint with google_error', async () => {
      google.fail('token', { status: 500 });

      const { reply } = await signIn(app, google, { email: uniqueEmail() });

      expect(linkOutcome(reply)).toMatchObject({ login: 'error', reason: 'google_error' });
    });

    it.each([
      ['signed with a key not in the JWKS', async () => google.signIdToken({}, { foreignKey: true })],
      ['expired', async () => google.signIdToken({ exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 })],
      ['for another audience', async () => google.signIdToken({ aud: 'someone-else.apps.googleusercontent.com' })],
      ['from another issuer', async () => google.signIdToken({ iss: 'https://evil.example' })],
      ['with another nonce', async () => google.signIdToken({ nonce: 'not-the-one-we-sent' })],
      ['with alg none', async () => google.signIdToken({}, { alg: 'none' })],
    ])('refuses an ID token %s with invalid_id_token', async (_, idToken) => {
      const email = uniqueEmail('forged', 'gmail.com');
      google.fail('token', {
        status: 200,
        body: { access_token: 'ya29.forged', expires_in: 3599, token_type: 'Bearer', scope: 'openid email profile', id_token: await idToken() },
      });

      const { reply } = await signIn(app, google, { email });

      expect(linkOutcome(reply)).toMatchObject({ login: 'error', reason: 'invalid_id_token' });
      expect(reply.headers.getSetCookie().some((cookie) => cookie.startsWith('sid='))).toBe(false);
    });

    it('refuses a sign-in state replayed from another browser', async () => {
      const browser = app.client();
      const start = await browser.get('/api/v1/auth/google');
      const callback = await google.consent(start.location!, { email: uniqueEmail() });

      const reply = await app.client().get(callback);

      expect(reply.location).toBe(`${app.url}/users/me?google_login=error&reason=invalid_state`);
    });
  });

  describe('with restrictions', () => {
    let restricted: TestApp;
    let restrictedGoogle: FakeGoogle;

    beforeAll(async () => {
      restrictedGoogle = await FakeGoogle.start();
      restricted = await startTestApp({
        ...restrictedGoogle.env(),
        GOOGLE_ALLOWED_DOMAINS: 'gmail.com,corp.example',
        GOOGLE_AUTO_CREATE_USERS: 'false',
        LOGIN_FAILED_URL: 'http://app.example/login',
      });
      restrictedGoogle.redirectUri = `${restricted.url}/api/v1/auth/google/callback`;
    });
    afterAll(async () => {
      await restricted?.close();
      await restrictedGoogle?.stop();
    });

    it.each([
      ['a look-alike domain', { email: 'ada@mail.com' }],
      ['a suffix domain', { email: 'ada@evilgmail.com' }],
      ['an hd claim not in the list', { email: 'ada@corp.example', hd: 'other.example' }],
    ])('refuses %s with domain_not_allowed at LOGIN_FAILED_URL', async (_, choice) => {
      await signedInUser(restricted.database, choice.email);

      const { reply } = await signIn(restricted, restrictedGoogle, choice);

      expect(reply.location).toBe('http://app.example/login?google_login=error&reason=domain_not_allowed');
    });

    it('refuses an unknown user when sign-up is off, and admits a known one', async () => {
      const known = uniqueEmail('known', 'gmail.com');
      await signedInUser(restricted.database, known);

      const unknown = await signIn(restricted, restrictedGoogle, { email: uniqueEmail('stranger', 'gmail.com') });
      const welcome = await signIn(restricted, restrictedGoogle, { email: known });

      expect(unknown.reply.location).toBe('http://app.example/login?google_login=error&reason=signup_disabled');
      expect(welcome.reply.location).toBe(`${restricted.url}/users/me`);
    });

    it('applies the same rules to the token exchange', async () => {
      const client = restricted.client();

      const domain = await client.post('/api/v1/auth/google/token', { idToken: await restrictedGoogle.signIdToken({ email: 'x@mail.com' }) });
      const signup = await client.post('/api/v1/auth/google/token', {
        idToken: await restrictedGoogle.signIdToken({ email: uniqueEmail('nobody', 'gmail.com') }),
      });

      expect(domain.status).toBe(403);
      expect(domain.json().code).toBe('domain_not_allowed');
      expect(signup.status).toBe(403);
      expect(signup.json().code).toBe('signup_disabled');
    });
  });

  describe('the token exchange for native clients', () => {
    const exchange = (body: unknown) => app.client().post('/api/v1/auth/google/token', body);

    it('turns a valid ID token into a working session token', async () => {
      const email = uniqueEmail('native', 'gmail.com');

      const reply = await exchange({ idToken: await google.signIdToken({ email }) });

      expect(reply.status).toBe(200);
      const body = reply.json();
      expect(body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 86400 });
      const me = await new HttpClient(app.url, { authorization: `Bearer ${body.accessToken}` }).get('/api/v1/users/me');
      expect(me.json().email).toBe(email);
    });

    it('accepts an additional client id as audience', async () => {
      const reply = await exchange({ idToken: await google.signIdToken({ aud: 'ios-client.apps.googleusercontent.com' }) });

      expect(reply.status).toBe(200);
    });

    it.each([
      ['a foreign signature', () => google.signIdToken({}, { foreignKey: true })],
      ['an unknown kid', () => google.signIdToken({}, { foreignKey: true, kid: 'rotated-away' })],
      ['an expired token', () => google.signIdToken({ exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 4000 })],
      ['a wrong audience', () => google.signIdToken({ aud: 'evil.apps.googleusercontent.com' })],
      ['a wrong issuer', () => google.signIdToken({ iss: 'https://accounts.evil.example' })],
      ['alg none', () => google.signIdToken({}, { alg: 'none' })],
      ['garbage', async () => 'aaa.bbb.ccc'],
    ])('refuses %s with 401 invalid_id_token', async (_, idToken) => {
      const reply = await exchange({ idToken: await idToken() });

      expect(reply.status).toBe(401);
      expect(reply.json()).toMatchObject({ statusCode: 401, code: 'invalid_id_token' });
    });

    it('refuses an unverified email with 403 email_not_verified', async () => {
      const reply = await exchange({ idToken: await google.signIdToken({ email_verified: false }) });

      expect(reply.status).toBe(403);
      expect(reply.json().code).toBe('email_not_verified');
    });

    it.each([
      [{}, 'idToken'],
      [{ idToken: 42 }, 'idToken'],
      [{ idToken: 'not a jwt' }, 'idToken'],
      [{ idToken: 'a.b.c', extra: true }, 'extra'],
    ])('refuses the body %j with 400 invalid_request naming the field', async (body, field) => {
      const reply = await exchange(body);

      expect(reply.status).toBe(400);
      expect(reply.json()).toMatchObject({ code: 'invalid_request', message: expect.stringContaining(field) });
    });
  });
});
