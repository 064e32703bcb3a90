import { randomInt } from 'node:crypto';
import Redis from 'ioredis';
import { RATE_LIMIT_KEY_PREFIX } from '../../src/rate-limit/redis-throttler.storage';
import { TestDatabase } from '../support/database';
import { eventually } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkOutcome, storedLink } from '../support/google-flows';
import { Haproxy, hasHaproxy } from '../support/haproxy';
import { HttpClient } from '../support/http-client';
import { hasPgBouncer, inCi, PgBouncer } from '../support/pgbouncer';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const REDIS_URL = 'redis://127.0.0.1:6379/13';
const ME = '/api/v1/users/me';
const OOO = '/api/v1/users/me/google/out-of-office';

/** In CI a missing HAProxy or PgBouncer fails the suite; locally it is skipped. */
const describeScaleOut = (hasHaproxy && hasPgBouncer) || inCi ? describe : describe.skip;
if (!(hasHaproxy && hasPgBouncer) && !inCi) console.warn('HAProxy or PgBouncer is not installed: the scale-out suite is skipped');

describeScaleOut('two instances behind HAProxy (deploy/haproxy.cfg), one PostgreSQL through PgBouncer in transaction mode, one Redis (e2e)', () => {
  let pgbouncer: PgBouncer;
  let google: FakeGoogle;
  let database: TestDatabase;
  let balancer: Haproxy;
  let publicUrl: string;
  const apps: TestApp[] = [];
  // Each client its own address (X-Forwarded-For, TRUST_PROXY=true), so the auth rate limit (4 a minute,
  // shared through Redis) counts only what a test means it to.
  const addresses: string[] = [];
  const clientAddress = () => {
    const address = `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`;
    addresses.push(address);
    return { 'x-forwarded-for': address };
  };

  const instanceEnv = () => ({
    ...google.env(),
    DATABASE_URL: pgbouncer.url(database.url),
    DATABASE_POOL_MODE: 'transaction',
    PUBLIC_URL: publicUrl,
    TRUST_PROXY: 'true',
    REDIS_URL,
    AUTH_RATE_LIMIT: '4',
  });
  const start = (port?: string) => startTestApp({ ...instanceEnv(), ...(port ? { PORT: port } : {}) }, database);

  beforeAll(async () => {
    pgbouncer = await PgBouncer.start('transaction');
    google = await FakeGoogle.start();
    database = await TestDatabase.create();
    const reserved = await Haproxy.reserve();
    publicUrl = reserved.url;
    google.redirectUri = `${publicUrl}/api/v1/auth/google/callback`;
    apps.push(await start());
    apps.push(await start());
    balancer = await Haproxy.start(reserved.port, [apps[0].url, apps[1].url]);
  });
  afterAll(async () => {
    await balancer?.stop();
    for (const app of apps) await app.stop();
    await pgbouncer?.stop();
    await database?.drop();
    await google?.stop();
    const redis = new Redis(REDIS_URL);
    await redis.del(...addresses.map((address) => `${RATE_LIMIT_KEY_PREFIX}auth:${address}`));
    await redis.quit();
  });

  /** A browser on one instance, as the balancer would have sent it there. */
  const browserOn = (app: TestApp, token?: string, from?: HttpClient) => {
    const browser = new HttpClient(app.url, { origin: publicUrl, ...clientAddress() });
    if (token) browser.cookies.set('sid', token);
    for (const [name, value] of from?.cookies ?? []) browser.cookies.set(name, value);
    return browser;
  };

  it('a link started on one instance completes on the other', async () => {
    const ada = await signedInUser(database, uniqueEmail('scale-link', 'gmail.com'));
    const first = browserOn(apps[0], ada.token);
    const started = await first.get('/api/v1/auth/google/link');
    expect(started.status).toBe(200);
    const callback = new URL(await google.consent(started.json<{ url: string }>().url, { email: ada.user.email }));

    const second = browserOn(apps[1], undefined, first);
    const reply = await second.get(`${apps[1].url}${callback.pathname}${callback.search}`);

    expect(linkOutcome(reply).link).toBe('success');
    expect((await storedLink(apps[0], ada.user.id))?.status).toBe('active');
  });

  it('one refresh at Google for 10 concurrent requests spread over both instances and the balancer', async () => {
    const bob = await signedInUser(database, uniqueEmail('scale-refresh', 'gmail.com'));
    const browser = browserOn(apps[0], bob.token);
    const started = await browser.get('/api/v1/auth/google/link');
    const callback = new URL(await google.consent(started.json<{ url: string }>().url, { email: bob.user.email }));
    expect(linkOutcome(await browser.get(`${apps[0].url}${callback.pathname}${callback.search}`)).link).toBe('success');
    await database.query('UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1', [bob.user.id]);
    google.resetRequests();

    const targets = [apps[0].url, apps[1].url, balancer.url];
    const replies = await Promise.all(Array.from({ length: 10 }, (_, index) => new HttpClient(targets[index % 3], bob.bearer).get(OOO)));

    expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    expect(google.requests('refresh')).toHaveLength(1);
  });

  it('rate limits are one budget across the instances (Redis)', async () => {
    const from = clientAddress();
    const statuses: number[] = [];
    for (const app of [apps[0], apps[1], apps[0], apps[1]]) statuses.push((await new HttpClient(app.url, from).post('/api/v1/auth/logout')).status);

    const fifth = await new HttpClient(apps[0].url, from).post('/api/v1/auth/logout');

    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(fifth.status).toBe(429);
  });

  it('a session revoked on one instance is refused by the other and by the balancer on their next request', async () => {
    const cy = await signedInUser(database, uniqueEmail('scale-revoke'));
    expect((await new HttpClient(apps[1].url, cy.bearer).get(ME)).status).toBe(200);

    const logout = await new HttpClient(apps[0].url, { ...cy.bearer, ...clientAddress() }).post('/api/v1/auth/logout');

    expect(logout.status).toBe(204);
    expect((await new HttpClient(apps[1].url, cy.bearer).get(ME)).status).toBe(401);
    expect((await new HttpClient(balancer.url, cy.bearer).get(ME)).status).toBe(401);
  });

  it('killing an instance: the balancer takes it out (health checks), traffic goes on, nothing is lost; restarted, it is taken back', async () => {
    const dee = await signedInUser(database, uniqueEmail('scale-kill'));
    const api = new HttpClient(balancer.url, dee.bearer);
    const port = apps[1].env.PORT;

    apps[1].process.kill('SIGKILL');
    await apps[1].stop();
    // Connections refused by the dead instance are dispatched to the live one (retries + redispatch).
    const during = await Promise.all(Array.from({ length: 40 }, () => api.get(ME)));
    expect(await eventually(() => balancer.transitions('app2').some((line) => /is DOWN/.test(line)), 10_000)).toBe(true);
    const after = await Promise.all(Array.from({ length: 20 }, () => api.get(ME)));

    expect(during.map((reply) => reply.status)).toEqual(Array(40).fill(200));
    expect(after.map((reply) => reply.status)).toEqual(Array(20).fill(200));

    apps[1] = await start(port);
    expect(await eventually(() => balancer.transitions('app2').some((line) => /is UP/.test(line)), 10_000)).toBe(true);
    const served = apps[1].logs.length;
    await Promise.all(Array.from({ length: 20 }, () => api.get(ME)));
    expect(apps[1].logs.slice(served).some((line) => line.includes('/api/v1/users/me'))).toBe(true);
  });
});
