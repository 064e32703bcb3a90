import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person, startLink, storedLink } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

describe('logs never carry a secret (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;
  const secrets = new Set<string>();
  const remember = (...values: Array<string | null | undefined>) => values.forEach((value) => value && value.length >= 8 && secrets.add(value));

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), LOG_LEVEL: 'debug' });
    remember(google.clientSecret);
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it('runs sign-in, link, refresh, failures and unlink, then finds none of their secrets in the logs', async () => {
    // Sign-in through the callback.
    const browser = app.client();
    const start = await browser.get('/api/v1/auth/google?next=/users/me');
    const signInCallback = new URL(await google.consent(start.location!, { email: uniqueEmail('logs', 'gmail.com') }));
    remember(signInCallback.searchParams.get('code'), signInCallback.searchParams.get('state'), browser.cookies.get('g_oauth_binding'));
    await browser.get(signInCallback.toString());
    remember(browser.cookies.get('sid'));

    // Token exchange with an ID token.
    const idToken = await google.signIdToken({ email: uniqueEmail('native', 'gmail.com') });
    remember(idToken);
    const exchanged = await app.client().post('/api/v1/auth/google/token', { idToken });
    remember(exchanged.json().accessToken);

    // Link, a refresh, a replayed callback, a failed exchange, and unlink.
    const ada = await person(app, uniqueEmail('ada', 'gmail.com'));
    remember(ada.token);
    const consentUrl = await startLink(ada);
    const linkCallback = new URL(await google.consent(consentUrl, { email: ada.user.email }));
    remember(linkCallback.searchParams.get('code'), linkCallback.searchParams.get('state'), new URL(consentUrl).searchParams.get('code_challenge'));
    await ada.browser.get(linkCallback.toString());
    await ada.browser.get(linkCallback.toString());
    remember(ada.browser.cookies.get('g_oauth_binding'));
    const link = (await storedLink(app, ada.user.id))!;
    remember(link.accessToken, link.refreshToken, link.access_token, link.refresh_token);
    await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [ada.user.id]);
    await ada.browser.get('/api/v1/users/me/google/out-of-office');
    const refreshed = (await storedLink(app, ada.user.id))!;
    remember(refreshed.accessToken, refreshed.access_token);
    remember(google.requests('token').at(-1)?.form.code_verifier);
    google.fail('token', { status: 500 });
    await linkGoogle(app, google, ada);
    await app.client({ authorization: `Bearer ${ada.token}` }).get('/api/v1/users/me');
    await ada.browser.delete('/api/v1/users/me/google');
    await app.client({ authorization: 'Bearer not-a-real-token-but-long-enough' }).get('/api/v1/users/me');
    remember('not-a-real-token-but-long-enough');

    await new Promise((resolve) => setTimeout(resolve, 300));
    const logs = app.logs.join('\n');
    expect(app.logs.length).toBeGreaterThan(10);
    expect(secrets.size).toBeGreaterThanOrEqual(15);
    const leaked = [...secrets].filter((secret) => logs.includes(secret));
    expect(leaked).toEqual([]);
    expect(logs).toMatch(/callback\?[^"]*code=\[Redacted\]/);
    expect(logs).not.toMatch(/"authorization"|"cookie"|set-cookie/i);
  });

  it('writes one JSON object per line', () => {
    const jsonLines = app.logs.filter((line) => line.startsWith('{'));

    expect(jsonLines.length).toBeGreaterThan(10);
    for (const line of jsonLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(jsonLines.some((line) => JSON.parse(line).req?.id)).toBe(true);
  });

  it('logs API requests with their request id, but not liveness probes or metrics scrapes', async () => {
    const requestLines = (url: string) =>
      app.logs
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.req?.url === url);
    const client = app.client({ 'x-request-id': 'probe-check-1' });

    await client.get('/health/live');
    await client.get('/metrics');
    await client.get('/api/v1/users/me');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(requestLines('/health/live')).toEqual([]);
    expect(requestLines('/metrics')).toEqual([]);
    const api = requestLines('/api/v1/users/me').filter((entry) => entry.req.id === 'probe-check-1');
    expect(api).toHaveLength(1);
    expect(api[0].res.statusCode).toBe(401);
  });
});
