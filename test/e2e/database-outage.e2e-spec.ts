import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../../src/database/embedded-postgres';
import { TestDatabase } from '../support/database';
import { eventually, within } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, linkOutcome, person, Person, storedLink } from '../support/google-flows';
import { HttpClient, Reply } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';

const OOO = '/api/v1/users/me/google/out-of-office';
// The pool's connect timeout is 5 s; anything near this bound is a hang, not a slow answer.
const NO_HANG_MS = 10_000;

describe('PostgreSQL stopped and restarted under a running service (e2e)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'google-link-outage-'));
  let postgres: EmbeddedDatabase;
  let database: TestDatabase;
  let google: FakeGoogle;
  let app: TestApp;
  let admin: Person;
  let ada: Person;
  let port: number;

  beforeAll(async () => {
    postgres = new EmbeddedDatabase(dataDir);
    const url = await postgres.start();
    port = Number(new URL(url).port);
    database = TestDatabase.at(url);
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '300', AUTH_RATE_LIMIT: '100000' }, database);
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    admin = await person(app, 'outage-admin@example.com', { admin: true });
    ada = await person(app);
    const linked = await linkGoogle(app, google, ada);
    if (linkOutcome(linked).link !== 'success') throw new Error(`setup link failed: ${linked.location}`);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await postgres?.stop();
    await google?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 (never 500, never a hang) while the database is down, and recovers on restart without a service restart', async () => {
    const adaApi = app.client(ada.bearer);
    const adminApi = app.client(admin.bearer);
    expect((await adaApi.get(OOO)).status).toBe(200);

    // Traffic keeps coming while PostgreSQL shuts down: queries in flight are cut off mid-way.
    const during: number[] = [];
    let stopping = true;
    const traffic = Array.from({ length: 4 }, async (_, worker) => {
      while (stopping) {
        const reply = await [
          () => adaApi.get('/api/v1/users/me'),
          () => adaApi.get(OOO),
          () => ada.browser.get('/api/v1/auth/google/link'),
          () => adminApi.get('/api/v1/admin/users'),
        ][worker]();
        during.push(reply.status);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await postgres.stop();
    stopping = false;
    await within(NO_HANG_MS, () => Promise.all(traffic));
    expect(during.length).toBeGreaterThan(4);
    expect(during.filter((status) => status !== 200 && status !== 503)).toEqual([]);

    const live = await within(NO_HANG_MS, () => app.client().get('/health/live'));
    expect(live.status).toBe(200);
    const ready = await within(NO_HANG_MS, () => app.client().get('/health/ready'));
    expect(ready.status).toBe(503);
    // Terminus's body, naming the check that failed but not the driver's message (hosts, ports).
    expect(ready.json()).toEqual({ status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } });
    const requests: Array<[string, () => Promise<Reply>]> = [
      ['users/me (bearer)', () => adaApi.get('/api/v1/users/me')],
      ['users/me (cookie)', () => ada.browser.get('/api/v1/users/me')],
      ['link start', () => ada.browser.get('/api/v1/auth/google/link')],
      ['out-of-office', () => adaApi.get(OOO)],
      ['unlink', () => adaApi.delete('/api/v1/users/me/google')],
      ['admin users', () => adminApi.get('/api/v1/admin/users')],
      ['admin audit events', () => adminApi.get('/api/v1/admin/audit-events')],
      ['logout', () => adaApi.post('/api/v1/auth/logout')],
      ['sign-in start', () => new HttpClient(app.url).get('/api/v1/auth/google')],
      ['token exchange', async () => new HttpClient(app.url).post('/api/v1/auth/google/token', { idToken: await google.signIdToken() })],
    ];
    for (const [name, send] of requests) {
      const reply = await within(NO_HANG_MS, send);
      expect({ name, status: reply.status, body: reply.json() }).toEqual({
        name,
        status: 503,
        body: { statusCode: 503, code: 'service_unavailable', message: expect.any(String) },
      });
    }
    // The callback is a browser navigation: even now it redirects to the outcome page.
    const callback = await within(NO_HANG_MS, () => ada.browser.get(`/api/v1/auth/google/callback?state=${'s'.repeat(43)}&code=4%2F0abc`));
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${app.url}/users/me?google_link=error&reason=google_error`);
    const anonymousCallback = await within(NO_HANG_MS, () => new HttpClient(app.url).get(`/api/v1/auth/google/callback?state=${'s'.repeat(43)}&code=4%2F0abc`));
    expect(anonymousCallback.location).toBe(`${app.url}/users/me?google_login=error&reason=google_error`);
    // The process is still up and still says so.
    expect((await app.client().get('/health/live')).status).toBe(200);
    expect(app.process.exitCode).toBeNull();

    postgres = new EmbeddedDatabase(dataDir, { port });
    await postgres.start();

    expect(await eventually(async () => (await app.client().get('/health/ready')).status === 200, 20_000)).toBe(true);
    const me = await adaApi.get('/api/v1/users/me');
    expect(me.status).toBe(200);
    expect(me.json().googleAccount).toMatchObject({ status: 'active' });
    expect((await ada.browser.get('/api/v1/users/me')).status).toBe(200);
    expect((await adaApi.get(OOO)).status).toBe(200);
    expect((await adminApi.get('/api/v1/admin/users')).status).toBe(200);
    const bob = await person(app);
    const linked = await linkGoogle(app, google, bob);
    expect(linkOutcome(linked)).toMatchObject({ link: 'success' });
    expect(await storedLink(app, bob.user.id)).not.toBeNull();
    expect(await storedLink(app, ada.user.id)).not.toBeNull();
  });
});
