import { FakeGoogle } from '../support/fake-google';
import type { Reply } from '../support/http-client';
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

  it('logs a failed statement by its SQLSTATE, table and constraint, never its query, parameters or row values', async () => {
    // A linked person whose access token is due, linked before the database starts refusing.
    const lin = await person(app, uniqueEmail('lin', 'gmail.com'));
    await linkGoogle(app, google, lin);
    const link = (await storedLink(app, lin.user.id))!;
    await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [lin.user.id]);
    const grace = await person(app, uniqueEmail('grace', 'gmail.com'));
    const from = app.logs.length;

    // Real PostgreSQL refusals (NOT VALID: existing rows are not checked): no new authorization
    // request is accepted, and no refreshed access token (one that expires later than this) either.
    const refreshCutoff = new Date(Date.now() + 30 * 60 * 1000).toISOString();
    await app.database.query(`ALTER TABLE oauth_states ADD CONSTRAINT log_test_no_new_state CHECK (false) NOT VALID`);
    await app.database.query(
      `ALTER TABLE google_oauth2_users ADD CONSTRAINT log_test_no_refresh CHECK (access_token_expires_at < '${refreshCutoff}'::timestamptz) NOT VALID`,
    );
    const answers: Reply[] = [];
    try {
      answers.push(await app.client().get('/api/v1/auth/google?next=/users/me'));
      answers.push(await grace.browser.get('/api/v1/auth/google/link'));
      answers.push(await lin.browser.get('/api/v1/users/me/google/out-of-office'));
    } finally {
      await app.database.query(`ALTER TABLE oauth_states DROP CONSTRAINT log_test_no_new_state`);
      await app.database.query(`ALTER TABLE google_oauth2_users DROP CONSTRAINT log_test_no_refresh`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Each refusal reached the person as a clean error answer, with nothing of the statement in it.
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(500);
      expect(answer.json()).toEqual({ statusCode: answer.status, code: expect.any(String), message: expect.any(String) });
      expect(answer.body).not.toMatch(/oauth_states|google_oauth2_users|log_test|constraint|INSERT|UPDATE|query|parameters|Failing row/i);
    }
    // The refusals were the statements we meant: no new state, and the link's tokens as they were.
    expect(await app.database.query(`SELECT 1 FROM oauth_states WHERE user_id = $1`, [grace.user.id])).toEqual([]);
    expect((await storedLink(app, lin.user.id))!.access_token).toBe(link.access_token);

    const lines = app.logs.slice(from);
    const entries = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { err?: Record<string, unknown> });
    const failures = entries.map((entry) => entry.err).filter((err) => err?.code === '23514');
    // Operators can still act: the SQLSTATE, the table and the constraint of each refusal.
    expect(failures).toEqual(
      expect.arrayContaining([
        // The state insert is a prepared statement on node-postgres (OAuthStateWriter): its own error type.
        expect.objectContaining({ type: 'DatabaseError', table: 'oauth_states', constraint: 'log_test_no_new_state' }),
        expect.objectContaining({ type: 'QueryFailedError', table: 'google_oauth2_users', constraint: 'log_test_no_refresh' }),
      ]),
    );
    const text = lines.join('\n');
    // Not the statement, its parameters, nor PostgreSQL's detail quoting the row.
    expect(text).not.toMatch(/"query"\s*:|\bparameters\b|driverError|Failing row|Key \(|INSERT INTO|UPDATE "|"detail"/i);
    // Not a sealed value (an envelope is v2:<key id>:…), a state hash (bytea, as a parameter or as PostgreSQL prints it), or the row's tokens.
    expect(text).not.toMatch(/v\d:test1:|"type":"Buffer"|\\{1,2}x[0-9a-f]{16}/);
    const leaked = [link.access_token, link.refresh_token, link.accessToken, link.refreshToken, lin.token, grace.token].filter((secret) =>
      text.includes(secret),
    );
    expect(leaked).toEqual([]);
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

describe('a background task’s database failure is logged without the value PostgreSQL quoted (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), REVOCATION_RETRY_SECONDS: '1' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.database.query(`DROP TRIGGER IF EXISTS log_test_refuse ON google_revocations`);
    await app?.close();
    await google?.stop();
  });

  it('the revocation retry pass: its SQLSTATE in the log line, not the sealed token the error message quoted', async () => {
    // A revocation queued (Google failed it at unlink), sealed in google_revocations.token.
    const ada = await person(app, uniqueEmail('ada', 'gmail.com'));
    await linkGoogle(app, google, ada);
    const link = (await storedLink(app, ada.user.id))!;
    google.fail('revoke', { status: 500 });
    expect((await ada.browser.delete('/api/v1/users/me/google')).status).toBe(204);
    const [queued] = await app.database.query<{ token: string }>(`SELECT token FROM google_revocations WHERE user_id = $1`, [ada.user.id]);
    expect(queued.token).toMatch(/^v2:test1:/);

    // PostgreSQL refuses the retry pass's claim with an error whose message quotes the row's value:
    // invalid input syntax for type uuid: "v2:test1:…".
    const from = app.logs.length;
    await app.database.query(`CREATE FUNCTION log_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM NEW.token::uuid; RETURN NEW; END $$`);
    await app.database.query(`CREATE TRIGGER log_test_refuse BEFORE UPDATE ON google_revocations FOR EACH ROW EXECUTE FUNCTION log_test_refuse()`);
    const failed = () => app.logs.slice(from).filter((line) => line.includes('Revocation retry pass failed'));
    const deadline = Date.now() + 15_000;
    while (failed().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    await app.database.query(`DROP TRIGGER log_test_refuse ON google_revocations`);

    expect(failed()[0]).toContain('QueryFailedError 22P02');
    expect(failed()[0]).toContain('invalid input syntax for type uuid: \\"[Redacted]\\"');
    const text = app.logs.slice(from).join('\n');
    const leaked = [queued.token, link.refresh_token, link.refreshToken].filter((secret) => text.includes(secret));
    expect(leaked).toEqual([]);
    expect(text).not.toMatch(/v\d:test1:|"query"\s*:|\bparameters\b/);
  });
});
