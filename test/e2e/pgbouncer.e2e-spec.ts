import { TestDatabase } from '../support/database';
import { eventually } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, linkOutcome, person, storedLink } from '../support/google-flows';
import { hasPgBouncer, inCi, PgBouncer } from '../support/pgbouncer';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const OOO = '/api/v1/users/me/google/out-of-office';
const ME = '/api/v1/users/me';

/** In CI a missing PgBouncer fails the suite (PgBouncer.start throws); locally it is skipped. */
const describePgBouncer = hasPgBouncer || inCi ? describe : describe.skip;
if (!hasPgBouncer && !inCi) console.warn('PgBouncer is not installed (apt-get install -y pgbouncer): the PgBouncer suite is skipped');

describePgBouncer.each([['transaction' as const], ['session' as const]])('through PgBouncer (deploy/pgbouncer.ini) in pool_mode=%s (e2e)', (poolMode) => {
  let pgbouncer: PgBouncer;
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    pgbouncer = await PgBouncer.start(poolMode);
    google = await FakeGoogle.start();
    // The service reaches PostgreSQL only through PgBouncer; the test reads and seeds it directly.
    const database = await TestDatabase.create();
    app = await startTestApp(
      {
        ...google.env(),
        DATABASE_URL: pgbouncer.url(database.url),
        DATABASE_POOL_MODE: poolMode,
        ADMIN_EMAILS: 'pooled-admin@example.com',
        REVOCATION_RETRY_SECONDS: '1',
      },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.stop();
    await pgbouncer?.stop();
    await app?.database.drop();
    await google?.stop();
  });

  it('starts and migrates through it; /health/ready answers 200 (the database check goes through PgBouncer)', async () => {
    const ready = await app.client().get('/health/ready');

    expect(ready.status).toBe(200);
    const applied = await app.database.query<{ count: string }>('SELECT count(*) FROM migrations');
    expect(Number(applied[0].count)).toBeGreaterThan(0);
  });

  it('users/me: 300 concurrent requests of 30 people all answer 200 (no prepared statement crossing server connections)', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, () => signedInUser(app.database, uniqueEmail('pooled'))));

    const replies = await Promise.all(Array.from({ length: 300 }, (_, index) => app.client(people[index % 30].bearer).get(ME)));

    expect(replies.map((reply) => reply.status).filter((status) => status !== 200)).toEqual([]);
    expect(replies[7].json<{ email: string }>().email).toBe(people[7].user.email);
  });

  it('the link round trip, out-of-office with one refresh for 8 concurrent requests, unlink, logout', async () => {
    const ada = await person(app, uniqueEmail('pooled-link', 'gmail.com'));
    const linked = await linkGoogle(app, google, ada);
    expect(linkOutcome(linked).link).toBe('success');
    const me = await ada.browser.get(ME);
    expect(me.json<{ googleAccount: { status: string } }>().googleAccount.status).toBe('active');

    await app.database.query('UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1', [ada.user.id]);
    google.resetRequests();
    const reads = await Promise.all(Array.from({ length: 8 }, () => app.client(ada.bearer).get(OOO)));
    expect(reads.map((reply) => reply.status)).toEqual(Array(8).fill(200));
    expect(google.requests('refresh')).toHaveLength(1);

    const unlink = await ada.browser.delete('/api/v1/users/me/google');
    expect(unlink.status).toBe(204);
    expect(await storedLink(app, ada.user.id)).toBeNull();
    const logout = await ada.browser.post('/api/v1/auth/logout');
    expect(logout.status).toBe(204);
    expect((await app.client(ada.bearer).get(ME)).status).toBe(401);
  });

  it('sign-in start, the token exchange, logout-all and the admin routes', async () => {
    const start = await app.client().get('/api/v1/auth/google?next=/somewhere');
    expect(start.status).toBe(302);
    const email = uniqueEmail('pooled-native', 'gmail.com');
    const exchange = await app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email }) });
    expect(exchange.status).toBe(200);
    const native = { authorization: `Bearer ${exchange.json<{ accessToken: string }>().accessToken}` };
    expect((await app.client(native).post('/api/v1/auth/logout-all')).status).toBe(204);
    expect((await app.client(native).get(ME)).status).toBe(401);

    const admin = await signedInUser(app.database, 'pooled-admin@example.com', { admin: true });
    const bob = await person(app, uniqueEmail('pooled-bob', 'gmail.com'));
    expect(linkOutcome(await linkGoogle(app, google, bob)).link).toBe('success');
    const users = await app.client(admin.bearer).get('/api/v1/admin/users?linked=true&limit=5');
    expect(users.status).toBe(200);
    const page = await app.client(admin.bearer).get(`/api/v1/admin/audit-events?userId=${bob.user.id}&limit=5`);
    expect(page.status).toBe(200);
    expect(page.json<{ items: Array<{ action: string }> }>().items.map((item) => item.action)).toContain('google.linked');
    const unlink = await app.client(admin.bearer).delete(`/api/v1/admin/users/${bob.user.id}/google`);
    expect(unlink.status).toBe(204);
  });

  it('the operations routes and the users/me page are served', async () => {
    expect((await app.client().get('/health/live')).status).toBe(200);
    expect((await app.client().get('/metrics')).status).toBe(200);
    expect((await app.client().get('/api/docs-json')).status).toBe(200);
    // The page itself is static; what it shows comes from users/me, above.
    const page = await app.client().get('/users/me');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Your account');
  });

  it('a revocation Google could not take is retried by the background job through PgBouncer', async () => {
    const cy = await person(app, uniqueEmail('pooled-retry', 'gmail.com'));
    expect(linkOutcome(await linkGoogle(app, google, cy)).link).toBe('success');
    const link = (await storedLink(app, cy.user.id))!;
    google.fail('revoke', { status: 503 }, 1);

    const reply = await cy.browser.delete('/api/v1/users/me/google');

    expect(reply.status).toBe(204);
    expect(await eventually(() => !google.isLive(link.refreshToken))).toBe(true);
    const queued = () => app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [cy.user.id]);
    expect(await eventually(async () => (await queued()).length === 0)).toBe(true);
  });

  it('no answer was a 500 and no log line names a prepared statement or a refused startup parameter', () => {
    const problems = app.logs.filter((line) => /prepared statement|unsupported startup parameter|"statusCode":5\d\d|internal_error/.test(line));
    expect(problems).toEqual([]);
  });
});
