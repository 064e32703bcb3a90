import { createHash } from 'node:crypto';
import { FakeGoogle } from '../support/fake-google';
import { auditActions, CALENDAR_EVENTS_READONLY, linkGoogle, linkOutcome, person, startLink, storedLink } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

describe('linking a Google account (e2e, fake Google on loopback)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '400', REVOCATION_RETRY_SECONDS: '1' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => {
    google.clearFaults();
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  describe('starting', () => {
    it('answers { url } with every parameter Google needs, and an HttpOnly binding cookie', async () => {
      const ada = await person(app);

      const reply = await ada.browser.get('/api/v1/auth/google/link');

      expect(reply.status).toBe(200);
      const url = new URL(reply.json().url);
      const params = Object.fromEntries(url.searchParams);
      expect(`${url.origin}${url.pathname}`).toBe(google.env().GOOGLE_AUTHORIZATION_URL);
      expect(params).toMatchObject({
        client_id: google.clientId,
        redirect_uri: `${app.url}/api/v1/auth/google/callback`,
        response_type: 'code',
        access_type: 'offline',
        include_granted_scopes: 'true',
        prompt: 'consent',
        login_hint: ada.user.email,
        code_challenge_method: 'S256',
      });
      expect(params.scope.split(' ')).toEqual(['openid', 'email', 'profile', CALENDAR_EVENTS_READONLY]);
      expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      const binding = reply.headers.getSetCookie().find((cookie) => cookie.startsWith('g_oauth_binding='));
      expect(binding).toMatch(/HttpOnly/i);
      expect(binding).toMatch(/SameSite=Lax/i);
      expect(reply.headers.get('cache-control')).toBe('no-store');
    });

    it('stores the state only as a hash', async () => {
      const ada = await person(app);
      const state = new URL(await startLink(ada)).searchParams.get('state')!;

      const rows = await app.database.query<{ state_hash: Buffer; code_verifier: string }>(
        'SELECT state_hash, code_verifier FROM oauth_states WHERE user_id = $1',
        [ada.user.id],
      );

      expect(rows).toHaveLength(1);
      expect(rows[0].state_hash.equals(createHash('sha256').update(state).digest())).toBe(true);
      expect(rows[0].code_verifier.startsWith('v2:')).toBe(true);
    });

    it('needs a session: 401', async () => {
      const reply = await app.client().get('/api/v1/auth/google/link');

      expect(reply.status).toBe(401);
      expect(reply.json().code).toBe('unauthenticated');
    });
  });

  describe('the callback', () => {
    it('links the account: 302 to users/me?google_link=success, PKCE verified, tokens encrypted, audited', async () => {
      const ada = await person(app);

      const reply = await linkGoogle(app, google, ada);

      expect(reply.status).toBe(302);
      expect(reply.location).toBe(`${app.url}/users/me?google_link=success`);
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const me = (await ada.browser.get('/api/v1/users/me')).json();
      expect(me.googleAccount).toEqual({
        googleUserId: expect.stringMatching(/^\d+$/),
        email: ada.user.email,
        scopes: expect.arrayContaining([CALENDAR_EVENTS_READONLY]),
        linkedAt: expect.any(String),
        status: 'active',
      });
      const exchange = google.requests('token').at(-1)!;
      expect(exchange.form.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
      const stored = await storedLink(app, ada.user.id);
      expect(google.isLive(stored!.refreshToken)).toBe(true);
      expect(google.isLive(stored!.accessToken)).toBe(true);
      expect(await auditActions(app, ada.user.id)).toEqual([
        expect.objectContaining({ action: 'google.linked', google_user_id: me.googleAccount.googleUserId }),
      ]);
    });

    it('never stores a token in plaintext (the raw table holds only AES-GCM envelopes)', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);
      const stored = (await storedLink(app, ada.user.id))!;

      const [raw] = await app.database.query<Record<string, unknown>>('SELECT * FROM google_oauth2_users WHERE user_id = $1', [ada.user.id]);
      const everything = JSON.stringify(raw);

      expect(raw.access_token).toMatch(/^v2:test1:[A-Za-z0-9_-]+$/);
      expect(raw.refresh_token).toMatch(/^v2:test1:[A-Za-z0-9_-]+$/);
      expect(everything).not.toContain(stored.accessToken);
      expect(everything).not.toContain(stored.refreshToken);
      expect(everything).not.toContain('ya29.');
      expect(stored.accessToken.length).toBeGreaterThan(223);
    });

    it('is single use: replaying the callback fails with invalid_state and reaches Google only once', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });
      const exchangesBefore = google.requests('token').length;

      const first = await ada.browser.get(callbackUrl);
      const replay = await ada.browser.get(callbackUrl);

      expect(linkOutcome(first).link).toBe('success');
      expect(replay.status).toBe(302);
      expect(linkOutcome(replay)).toMatchObject({ path: '/users/me', link: 'error', reason: 'invalid_state' });
      expect(google.requests('token').length).toBe(exchangesBefore + 1);
    });

    it('lets exactly one of 50 concurrent callbacks with one state proceed', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });
      const exchangesBefore = google.requests('token').length;

      const replies = await Promise.all(Array.from({ length: 50 }, () => ada.browser.get(callbackUrl)));

      const outcomes = replies.map((reply) => linkOutcome(reply));
      expect(replies.every((reply) => reply.status === 302)).toBe(true);
      expect(outcomes.filter((outcome) => outcome.link === 'success')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.reason === 'invalid_state')).toHaveLength(49);
      expect(google.requests('token').length).toBe(exchangesBefore + 1);
    });

    it('accepts the iss that names Google in the authorization response (RFC 9207)', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });

      const reply = await ada.browser.get(callbackUrl);

      expect(new URL(callbackUrl).searchParams.get('iss')).toBe(google.issuer);
      expect(linkOutcome(reply).link).toBe('success');
    });

    it('refuses an authorization response from another issuer (mix-up): google_error, the code never sent, the state consumed', async () => {
      const ada = await person(app);
      const callbackUrl = new URL(await google.consent(await startLink(ada), { email: ada.user.email }));
      callbackUrl.searchParams.set('iss', 'https://attacker.example');
      const exchangesBefore = google.requests('token').length;

      const reply = await ada.browser.get(callbackUrl.toString());

      expect(reply.status).toBe(302);
      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_error' });
      expect(google.requests('token').length).toBe(exchangesBefore);
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect(await app.database.query('SELECT 1 FROM oauth_states WHERE user_id = $1', [ada.user.id])).toHaveLength(0);
    });

    it('refuses an expired state with invalid_state', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });
      await app.database.query(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [ada.user.id]);

      const reply = await ada.browser.get(callbackUrl);

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect(await app.database.query('SELECT 1 FROM oauth_states WHERE user_id = $1', [ada.user.id])).toHaveLength(0);
    });

    it('refuses a callback from another browser (no binding cookie), even with the same session', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });
      const otherBrowser = app.client();
      otherBrowser.cookies.set('sid', ada.token);

      const reply = await otherBrowser.get(callbackUrl);

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
    });

    it('refuses a callback completed under another signed-in user (linking CSRF)', async () => {
      const ada = await person(app);
      const mallory = await person(app);
      const callbackUrl = await google.consent(await startLink(mallory), { email: mallory.user.email });
      // Ada's browser is made to open Mallory's callback, with Mallory's binding cookie planted too.
      ada.browser.cookies.set('g_oauth_binding', mallory.browser.cookies.get('g_oauth_binding')!);

      const reply = await ada.browser.get(callbackUrl);

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'invalid_state' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect(await storedLink(app, mallory.user.id)).toBeNull();
    });

    it('accepts the callback in the starting browser without a session cookie (an app using Bearer tokens)', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email });
      ada.browser.cookies.delete('sid');

      const reply = await ada.browser.get(callbackUrl);

      expect(linkOutcome(reply).link).toBe('success');
      expect(await storedLink(app, ada.user.id)).not.toBeNull();
    });

    it.each([
      ['missing', ''],
      ['unknown', `state=${'A'.repeat(43)}&`],
      ['tampered', 'state=%3Cscript%3E&'],
    ])('answers a %s state: google_link error for a signed-in browser, google_login error otherwise', async (_, statePart) => {
      const ada = await person(app);

      const signedIn = await ada.browser.get(`/api/v1/auth/google/callback?${statePart}code=abc`);
      const anonymous = await app.client().get(`/api/v1/auth/google/callback?${statePart}code=abc`);

      expect(signedIn.status).toBe(302);
      expect(signedIn.location).toBe(`${app.url}/users/me?google_link=error&reason=invalid_state`);
      expect(anonymous.status).toBe(302);
      expect(anonymous.location).toBe(`${app.url}/users/me?google_login=error&reason=invalid_state`);
    });

    it('answers a cancelled consent with access_denied (a 302, never a 500) and consumes the state', async () => {
      const ada = await person(app);
      const callbackUrl = await google.consent(await startLink(ada), { email: ada.user.email, cancel: true });

      const reply = await ada.browser.get(callbackUrl);
      const again = await ada.browser.get(callbackUrl);

      expect(reply.status).toBe(302);
      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'access_denied' });
      expect(linkOutcome(again).reason).toBe('invalid_state');
    });

    it('refuses a partial grant with missing_scopes and revokes it at Google', async () => {
      const ada = await person(app);
      google.resetRequests();

      const reply = await linkGoogle(app, google, ada, { grantScopes: ['openid', 'email', 'profile'] });

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'missing_scopes' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
      const revoked = google.requests('revoke');
      expect(revoked).toHaveLength(1);
      expect(google.isLive(revoked[0].form.token)).toBe(false);
    });

    it('refuses a Google account already linked to another user, without touching their grant', async () => {
      const shared = uniqueEmail('shared', 'gmail.com');
      const ada = await person(app);
      const bob = await person(app);
      await linkGoogle(app, google, ada, { email: shared });
      const adaLink = (await storedLink(app, ada.user.id))!;
      google.resetRequests();

      const reply = await linkGoogle(app, google, bob, { email: shared });

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_account_in_use' });
      expect(await storedLink(app, bob.user.id)).toBeNull();
      expect(google.requests('revoke')).toHaveLength(0);
      expect(google.isLive(adaLink.refreshToken)).toBe(true);
    });

    it('lets exactly one of two users linking one Google account at the same time win', async () => {
      const shared = uniqueEmail('race', 'gmail.com');
      const ada = await person(app);
      const bob = await person(app);
      const [adaCallback, bobCallback] = await Promise.all([
        startLink(ada).then((url) => google.consent(url, { email: shared })),
        startLink(bob).then((url) => google.consent(url, { email: shared })),
      ]);

      const replies = await Promise.all([ada.browser.get(adaCallback), bob.browser.get(bobCallback)]);

      const reasons = replies.map((reply) => (linkOutcome(reply).link === 'success' ? 'success' : linkOutcome(reply).reason)).sort();
      expect(reasons).toEqual(['google_account_in_use', 'success']);
      const [{ count }] = await app.database.query<{ count: string }>('SELECT count(*) FROM google_oauth2_users WHERE user_id = ANY($1)', [
        [ada.user.id, bob.user.id],
      ]);
      expect(Number(count)).toBe(1);
    });

    it('refuses a first link without a refresh token: no_offline_access, nothing stored', async () => {
      const ada = await person(app);

      const reply = await linkGoogle(app, google, ada, { noRefreshToken: true });

      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'no_offline_access' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
    });

    it('keeps the stored refresh token when a re-consent brings none', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);
      const before = (await storedLink(app, ada.user.id))!;

      const reply = await linkGoogle(app, google, ada, { noRefreshToken: true });

      expect(linkOutcome(reply).link).toBe('success');
      const after = (await storedLink(app, ada.user.id))!;
      expect(after.refreshToken).toBe(before.refreshToken);
      expect(after.accessToken).not.toBe(before.accessToken);
      expect((await auditActions(app, ada.user.id)).map((event) => event.action)).toEqual(['google.linked', 'google.relinked']);
    });

    it('replaces a link to a different Google account and revokes the old grant', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada, { email: uniqueEmail('first', 'gmail.com') });
      const first = (await storedLink(app, ada.user.id))!;

      const reply = await linkGoogle(app, google, ada, { email: uniqueEmail('second', 'gmail.com') });

      expect(linkOutcome(reply).link).toBe('success');
      const second = (await storedLink(app, ada.user.id))!;
      expect(second.google_user_id).not.toBe(first.google_user_id);
      expect(google.isLive(first.refreshToken)).toBe(false);
      expect(google.isLive(second.refreshToken)).toBe(true);
      expect(await app.database.query('SELECT 1 FROM google_oauth2_users WHERE user_id = $1', [ada.user.id])).toHaveLength(1);
    });

    it.each([
      ['a 500', { status: 500, body: { error: 'internal_failure' } }],
      ['a timeout', { delayMs: 1500 }],
      ['garbage', { garbage: true as const }],
      ['a dropped connection', { close: true as const }],
      ['an invalid_grant', { status: 400, body: { error: 'invalid_grant' } }],
    ])('answers %s from the token endpoint with google_error, storing nothing', async (_, fault) => {
      const ada = await person(app);
      google.fail('token', fault);

      const reply = await linkGoogle(app, google, ada);

      expect(reply.status).toBe(302);
      expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_error' });
      expect(await storedLink(app, ada.user.id)).toBeNull();
    });

    it('answers an unreachable key set (JWKS) with google_error', async () => {
      const fresh = await FakeGoogle.start();
      const otherApp = await startTestApp(fresh.env());
      fresh.redirectUri = `${otherApp.url}/api/v1/auth/google/callback`;
      try {
        const ada = await person(otherApp);
        fresh.fail('jwks', { status: 503 }, Infinity);

        const reply = await linkGoogle(otherApp, fresh, ada);

        expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'google_error' });
        expect(await storedLink(otherApp, ada.user.id)).toBeNull();
      } finally {
        await otherApp.close();
        await fresh.stop();
      }
    });
  });

  it('reports link outcomes, Google call latency and the number of active links in /metrics', async () => {
    const ada = await person(app);
    await linkGoogle(app, google, ada);
    await linkGoogle(app, google, await person(app), { cancel: true });

    const metrics = (await app.client().get('/metrics')).body;

    const [{ count }] = await app.database.query<{ count: string }>(`SELECT count(*) FROM google_oauth2_users WHERE status = 'active'`);
    expect(metrics).toContain(`google_active_links ${count}`);
    expect(metrics).toMatch(/google_link_outcomes_total\{[^}]*outcome="success"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/google_link_outcomes_total\{[^}]*outcome="access_denied"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/google_api_request_duration_seconds_count\{[^}]*endpoint="token"[^}]*\} [1-9]/);
  });

  describe('disconnecting', () => {
    it('revokes the refresh token at Google, deletes the link and records who did it', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);
      const link = (await storedLink(app, ada.user.id))!;
      google.resetRequests();

      const reply = await ada.browser.delete('/api/v1/users/me/google');

      expect(reply.status).toBe(204);
      expect(google.requests('revoke').map((request: { form: Record<string, string> }) => request.form.token)).toEqual([link.refreshToken]);
      expect(google.isLive(link.refreshToken)).toBe(false);
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect((await auditActions(app, ada.user.id)).at(-1)).toMatchObject({ action: 'google.unlinked', actor_id: ada.user.id });
      expect((await ada.browser.get('/api/v1/users/me')).json().googleAccount).toBeNull();
    });

    it('answers 404 google_not_linked when there is nothing to disconnect', async () => {
      const ada = await person(app);

      const reply = await ada.browser.delete('/api/v1/users/me/google');

      expect(reply.status).toBe(404);
      expect(reply.json()).toMatchObject({ statusCode: 404, code: 'google_not_linked' });
    });

    it('accepts a grant already revoked at Google', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);
      google.revokeAllFor(ada.user.email);

      const reply = await ada.browser.delete('/api/v1/users/me/google');

      expect(reply.status).toBe(204);
      expect(await storedLink(app, ada.user.id)).toBeNull();
      expect(await app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [ada.user.id])).toHaveLength(0);
    });

    it('still deletes the link when Google is down, and retries the revocation until it succeeds', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);
      const link = (await storedLink(app, ada.user.id))!;
      google.fail('revoke', { status: 503 }, 1);

      const reply = await ada.browser.delete('/api/v1/users/me/google');

      expect(reply.status).toBe(204);
      expect(await storedLink(app, ada.user.id)).toBeNull();
      const [queued] = await app.database.query<{ token: string }>('SELECT token FROM google_revocations WHERE user_id = $1', [ada.user.id]);
      expect(queued.token.startsWith('v2:')).toBe(true);
      expect(google.isLive(link.refreshToken)).toBe(true);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && google.isLive(link.refreshToken)) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(google.isLive(link.refreshToken)).toBe(false);
      while (Date.now() < deadline && (await app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [ada.user.id])).length) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [ada.user.id])).toHaveLength(0);
    });

    it('refuses a cookie-authenticated disconnect from a foreign origin (CSRF)', async () => {
      const ada = await person(app);
      await linkGoogle(app, google, ada);

      const reply = await ada.browser.delete('/api/v1/users/me/google', { origin: 'https://evil.example' });

      expect(reply.status).toBe(403);
      expect(reply.json().code).toBe('csrf_rejected');
      expect(await storedLink(app, ada.user.id)).not.toBeNull();
    });
  });
});
