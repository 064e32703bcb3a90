import { FakeGoogle } from '../support/fake-google';
import { linkOutcome, storedLink } from '../support/google-flows';
import { HttpClient } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A sibling host (evil.example.test beside link.example.test, or another port on localhost) can set
 * cookies for the service's host: a binding cookie of the attacker's own flow, and a `sid` with a
 * longer Path that the browser sends first, shadowing the victim's. Here the test client is the
 * victim's browser, and the planted cookies go first in its Cookie header, as a browser sends them.
 */
describe('cookies another host can plant (e2e)', () => {
  const GARBAGE_SID = 'G'.repeat(43);

  /** Whatever the service called its cookie: the attacker reads their own browser's jar. */
  const cookieEndingWith = (browser: HttpClient, suffix: string) => [...browser.cookies].find(([name]) => name.endsWith(suffix))?.[1] ?? '';
  /** The victim's browser sends the planted cookies first, then its own. */
  const withPlanted = (browser: HttpClient, planted: string) => ({
    cookie: [planted, ...[...browser.cookies].map(([name, value]) => `${name}=${value}`)].filter(Boolean).join('; '),
  });

  describe('on an https PUBLIC_URL', () => {
    const PUBLIC_URL = 'https://link.example.test';
    let google: FakeGoogle;
    let app: TestApp;
    /** Where Google sends the browser, as this test reaches the service (plain http on loopback). */
    const local = (url: string) => url.replace(PUBLIC_URL, app.url);

    const signIn = async (email: string, browser = app.client({ origin: PUBLIC_URL })) => {
      const start = await browser.get('/api/v1/auth/google');
      const callback = local(await google.consent(start.location!, { email }));
      return { browser, start, callback, reply: await browser.get(callback) };
    };

    beforeAll(async () => {
      google = await FakeGoogle.start();
      app = await startTestApp({ ...google.env(), PUBLIC_URL });
      google.redirectUri = `${PUBLIC_URL}/api/v1/auth/google/callback`;
    });
    afterAll(async () => {
      await app?.close();
      await google?.stop();
    });

    it('names its cookies __Host-sid and __Host-g_oauth_binding: Secure, Path=/, no Domain', async () => {
      const { start, reply } = await signIn(uniqueEmail('host', 'gmail.com'));

      const binding = start.headers.getSetCookie().find((cookie) => cookie.startsWith('__Host-g_oauth_binding='));
      const session = reply.headers.getSetCookie().find((cookie) => cookie.startsWith('__Host-sid='));
      for (const cookie of [binding, session]) {
        expect(cookie).toMatch(/; Secure/i);
        expect(cookie).toMatch(/; Path=\/(;|$)/i);
        expect(cookie).toMatch(/; HttpOnly/i);
        expect(cookie).not.toMatch(/Domain=/i);
      }
      expect([...start.headers.getSetCookie(), ...reply.headers.getSetCookie()].filter((cookie) => /^(sid|g_oauth_binding)=/.test(cookie))).toEqual([]);
    });

    it('never reads the plain sid: a planted session authenticates nothing, __Host-sid does', async () => {
      const { token } = await signedInUser(app.database, uniqueEmail('plain'));

      const planted = await app.client().get('/api/v1/users/me', { cookie: `sid=${token}` });
      const own = await app.client().get('/api/v1/users/me', { cookie: `__Host-sid=${token}` });

      expect(planted.status).toBe(401);
      expect(own.status).toBe(200);
    });

    it('clears __Host-sid on sign-out', async () => {
      const { browser } = await signIn(uniqueEmail('out', 'gmail.com'));

      const logout = await browser.post('/api/v1/auth/logout');

      expect(logout.status).toBe(204);
      expect(logout.headers.getSetCookie().join()).toMatch(/__Host-sid=;/);
    });

    it('login CSRF: a planted binding cookie does not sign the victim in as the attacker', async () => {
      // The attacker signs in with their own Google account but keeps the callback instead of following it.
      const attacker = app.client({ origin: PUBLIC_URL });
      const start = await attacker.get('/api/v1/auth/google');
      const callback = local(await google.consent(start.location!, { email: uniqueEmail('attacker', 'gmail.com') }));
      const victim = app.client({ origin: PUBLIC_URL });

      const reply = await victim.get(callback, { cookie: `g_oauth_binding=${cookieEndingWith(attacker, 'g_oauth_binding')}` });

      expect(reply.location).toBe(`${PUBLIC_URL}/users/me?google_login=error&reason=invalid_state`);
      expect(reply.headers.getSetCookie().some((cookie) => /sid=[^;]/.test(cookie))).toBe(false);
      expect((await victim.get('/api/v1/users/me')).status).toBe(401);
    });

    it("linking CSRF: a planted binding cookie and a shadowing sid do not link the victim's Google account to the attacker", async () => {
      const victimEmail = uniqueEmail('victim', 'gmail.com');
      const { browser: victim } = await signIn(victimEmail);
      const victimId = (await victim.get('/api/v1/users/me')).json().id;
      const { browser: attacker } = await signIn(uniqueEmail('attacker', 'gmail.com'));
      const attackerId = (await attacker.get('/api/v1/users/me')).json().id;
      // The attacker starts a link of their own; the victim is led to its consent screen and grants.
      const consentUrl = (await attacker.get('/api/v1/auth/google/link')).json().url;
      const callback = local(await google.consent(consentUrl, { email: victimEmail }));
      const planted = `sid=${GARBAGE_SID}; g_oauth_binding=${cookieEndingWith(attacker, 'g_oauth_binding')}`;

      const reply = await victim.get(callback, withPlanted(victim, planted));

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, attackerId)).toBeNull();
      expect(await storedLink(app, victimId)).toBeNull();
      expect(reply.headers.getSetCookie().some((cookie) => /sid=[^;]/.test(cookie))).toBe(false);
      expect((await victim.get('/api/v1/users/me')).json().id).toBe(victimId);
    });
  });

  describe('on http (local mode): plain sid, and a session cookie the callback cannot trust', () => {
    let google: FakeGoogle;
    let app: TestApp;

    const person = async (prefix: string) => {
      const signedIn = await signedInUser(app.database, uniqueEmail(prefix, 'gmail.com'));
      const browser = app.client({ origin: app.url });
      browser.cookies.set('sid', signedIn.token);
      return { ...signedIn, browser };
    };
    /** The attacker's own link flow, consented to at Google by the victim's account. */
    const attackersFlow = async (victimEmail: string) => {
      const attacker = await person('attacker');
      const consentUrl = (await attacker.browser.get('/api/v1/auth/google/link')).json().url;
      const callback = await google.consent(consentUrl, { email: victimEmail });
      return { attacker, callback, binding: attacker.browser.cookies.get('g_oauth_binding')! };
    };

    beforeAll(async () => {
      google = await FakeGoogle.start();
      app = await startTestApp(google.env());
      google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    });
    afterAll(async () => {
      await app?.close();
      await google?.stop();
    });

    it('refuses a link callback carrying two session cookies (a shadowing sid planted before the real one): invalid_state', async () => {
      const victim = await person('victim');
      const { attacker, callback, binding } = await attackersFlow(victim.user.email);

      const reply = await victim.browser.get(callback, withPlanted(victim.browser, `sid=${GARBAGE_SID}; g_oauth_binding=${binding}`));

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, attacker.user.id)).toBeNull();
    });

    it('refuses a link callback whose only session cookie does not resolve: invalid_state, never "no session"', async () => {
      const victimBrowser = app.client();
      const { attacker, callback, binding } = await attackersFlow(uniqueEmail('victim', 'gmail.com'));

      const reply = await victimBrowser.get(callback, { cookie: `sid=${GARBAGE_SID}; g_oauth_binding=${binding}` });

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, attacker.user.id)).toBeNull();
    });

    it('answers a request with two session cookies 401: neither is taken', async () => {
      const someone = await person('someone');

      const reply = await app.client().get('/api/v1/users/me', { cookie: `sid=${someone.token}; sid=${GARBAGE_SID}` });

      expect(reply.status).toBe(401);
      expect(reply.json().code).toBe('unauthenticated');
    });

    it('keeps the plain sid working in local mode', async () => {
      const someone = await person('local');

      expect((await someone.browser.get('/api/v1/users/me')).json().id).toBe(someone.user.id);
      expect((await someone.browser.get('/api/v1/auth/google/link')).headers.getSetCookie().join()).toMatch(/^g_oauth_binding=.*Path=\/api\/v1\/auth\/google/i);
    });
  });
});
