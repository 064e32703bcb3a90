import { Redis } from 'ioredis';
import { GOOGLE_API_KEY_PREFIX } from '../../src/rate-limit/rate-limit.constants';
import { RATE_LIMIT_KEY_PREFIX } from '../../src/rate-limit/redis-throttler.storage';
import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, person, Person, storedLink } from '../support/google-flows';
import { HttpClient, Reply } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const DAY = 86_400_000;
const OOO = '/api/v1/users/me/google/out-of-office';
// The machine's Redis (CI has one too), on a database no other suite uses; keys are per user id.
const REDIS_URL = 'redis://127.0.0.1:6379/12';

function expectRateLimited(reply: Reply): void {
  expect(reply.status).toBe(429);
  expect(reply.json()).toEqual({ statusCode: 429, code: 'rate_limited', message: expect.any(String) });
  const retryAfter = Number(reply.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

async function getTimes(times: number, client: HttpClient): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await client.get(OOO)).status);
  return statuses;
}

describe('out-of-office events and token refresh (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  const linked = async (email = uniqueEmail('ooo', 'gmail.com')): Promise<Person> => {
    const someone = await person(app, email);
    const reply = await linkGoogle(app, google, someone);
    if (!reply.location?.includes('google_link=success')) throw new Error(`link failed: ${reply.location}`);
    return someone;
  };
  const expireAccessToken = (userId: string, database = app.database) =>
    database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() + interval '30 seconds' WHERE user_id = $1`, [userId]);

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '400' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => {
    google.clearFaults();
    google.rotateRefreshTokens = false;
    google.eventsPageSize = undefined;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it('keeps /health/ready 200 while calls to Google hang (readiness pings the database only)', async () => {
    const someone = await linked();
    google.fail('calendar', { delayMs: 2_000 }, 10);
    const stuck = Array.from({ length: 10 }, () => someone.browser.get(OOO));
    await new Promise((resolve) => setTimeout(resolve, 150));

    const ready = await app.client().get('/health/ready');

    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    expect((await Promise.all(stuck)).map((reply) => reply.status)).toEqual(Array(10).fill(502));
  });

  it('answers 404 google_not_linked without a link', async () => {
    const someone = await person(app);

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(404);
    expect(reply.json().code).toBe('google_not_linked');
  });

  it("reads the primary calendar's out-of-office events, all-day ones as dates, following every page", async () => {
    const someone = await linked();
    const now = Date.now();
    google.setEvents(someone.user.email, [
      {
        id: 'timed',
        summary: 'Dentist',
        start: { dateTime: new Date(now + 2 * DAY).toISOString() },
        end: { dateTime: new Date(now + 2 * DAY + 3_600_000).toISOString() },
      },
      {
        id: 'allday',
        summary: 'Holiday',
        start: { date: new Date(now + 5 * DAY).toISOString().slice(0, 10) },
        end: { date: new Date(now + 7 * DAY).toISOString().slice(0, 10) },
      },
      {
        id: 'later',
        summary: 'Sabbatical',
        start: { dateTime: new Date(now + 10 * DAY).toISOString() },
        end: { dateTime: new Date(now + 11 * DAY).toISOString() },
      },
      {
        id: 'outside',
        summary: 'Far away',
        start: { dateTime: new Date(now + 50 * DAY).toISOString() },
        end: { dateTime: new Date(now + 51 * DAY).toISOString() },
      },
    ]);
    google.eventsPageSize = 1;
    google.resetRequests();

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(200);
    const events = reply.json().events;
    expect(events.map((event: { id: string }) => event.id)).toEqual(['timed', 'allday', 'later']);
    expect(events[1]).toEqual({
      id: 'allday',
      summary: 'Holiday',
      start: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      end: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      allDay: true,
    });
    expect(events[0]).toMatchObject({ allDay: false, start: expect.stringMatching(/T/) });
    const calls = google.requests('calendar');
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(calls[0].query).toMatchObject({ eventTypes: 'outOfOffice', singleEvents: 'true', orderBy: 'startTime' });
    expect(calls[1].query.pageToken).toBeTruthy();
    expect(calls.every((call) => String(call.headers.authorization).startsWith('Bearer ') && !('access_token' in call.query))).toBe(true);
  });

  it('asks Google for from … from + 30 days when only from is given', async () => {
    const someone = await linked();
    google.resetRequests();

    const reply = await someone.browser.get(`${OOO}?from=2026-12-01T00:00:00Z`);

    expect(reply.status).toBe(200);
    const query = google.requests('calendar')[0].query;
    expect(new Date(query.timeMin).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(new Date(query.timeMax).toISOString()).toBe('2026-12-31T00:00:00.000Z');
  });

  it.each([
    ['from=tomorrow', 'from'],
    ['to=2026-13-45', 'to'],
    ['from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'to'],
    ['from=2026-12-01T00:00:00Z&to=2027-06-01T00:00:00Z', '90 days'],
    ['limit=5', 'limit'],
  ])('refuses ?%s with 400 invalid_request', async (query, mention) => {
    const someone = await linked();

    const reply = await someone.browser.get(`${OOO}?${query}`);

    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ code: 'invalid_request', message: expect.stringContaining(mention) });
  });

  it('refreshes an access token about to expire, and stores the new one encrypted', async () => {
    const someone = await linked();
    const before = (await storedLink(app, someone.user.id))!;
    await expireAccessToken(someone.user.id);
    google.resetRequests();

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(200);
    expect(google.requests('refresh')).toHaveLength(1);
    const after = (await storedLink(app, someone.user.id))!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(google.isLive(after.accessToken)).toBe(true);
    expect(google.requests('calendar').at(-1)!.headers.authorization).toBe(`Bearer ${after.accessToken}`);
    const [{ expires_at }] = await app.database.query<{ expires_at: Date }>(
      'SELECT access_token_expires_at AS expires_at FROM google_oauth2_users WHERE user_id = $1',
      [someone.user.id],
    );
    expect(expires_at.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it('does not refresh a token with more than a minute left', async () => {
    const someone = await linked();
    google.resetRequests();

    await someone.browser.get(OOO);

    expect(google.requests('refresh')).toHaveLength(0);
  });

  it('stores a rotated refresh token', async () => {
    const someone = await linked();
    const before = (await storedLink(app, someone.user.id))!;
    google.rotateRefreshTokens = true;
    await expireAccessToken(someone.user.id);

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(200);
    const after = (await storedLink(app, someone.user.id))!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(google.isLive(after.refreshToken)).toBe(true);
  });

  it('makes one refresh at Google for 25 concurrent requests', async () => {
    const someone = await linked();
    await expireAccessToken(someone.user.id);
    google.resetRequests();

    const replies = await Promise.all(Array.from({ length: 25 }, () => someone.browser.get(OOO)));

    expect(replies.map((reply) => reply.status)).toEqual(Array(25).fill(200));
    expect(google.requests('refresh')).toHaveLength(1);
  });

  describe('when Google revokes the grant (invalid_grant)', () => {
    it('answers 409 google_reauth_required, keeps the link as needs_reauth, audits it, and reconnecting heals it', async () => {
      const someone = await linked();
      google.revokeAllFor(someone.user.email);
      await expireAccessToken(someone.user.id);

      const reply = await someone.browser.get(OOO);

      expect(reply.status).toBe(409);
      expect(reply.json().code).toBe('google_reauth_required');
      const me = (await someone.browser.get('/api/v1/users/me')).json();
      expect(me.googleAccount.status).toBe('needs_reauth');
      expect((await auditActions(app, someone.user.id)).map((event) => event.action)).toContain('google.reauth_required');
      google.resetRequests();
      expect((await someone.browser.get(OOO)).status).toBe(409);
      expect(google.requests('refresh')).toHaveLength(0);

      const relink = await linkGoogle(app, google, someone);

      expect(relink.location).toContain('google_link=success');
      expect((await someone.browser.get('/api/v1/users/me')).json().googleAccount.status).toBe('active');
      expect((await someone.browser.get(OOO)).status).toBe(200);
    });

    it('notices a revocation even before the access token expires (Calendar answers 401)', async () => {
      const someone = await linked();
      google.revokeAllFor(someone.user.email);

      const reply = await someone.browser.get(OOO);

      expect(reply.status).toBe(409);
      expect(reply.json().code).toBe('google_reauth_required');
    });
  });

  it.each([
    ['a 500', { status: 500 }],
    ['a timeout', { delayMs: 1500 }],
    ['garbage', { garbage: true as const }],
    ['a dropped connection', { close: true as const }],
  ])('answers %s from the refresh with 502 google_unavailable, storing nothing', async (_, fault) => {
    const someone = await linked();
    const before = (await storedLink(app, someone.user.id))!;
    await expireAccessToken(someone.user.id);
    google.fail('refresh', fault);

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(502);
    expect(reply.json().code).toBe('google_unavailable');
    const after = (await storedLink(app, someone.user.id))!;
    expect(after.accessToken).toBe(before.accessToken);
    expect(after.status).toBe('active');
  });

  it.each([1e20, -5, 0, 'NaN'])('answers a token answer with expires_in=%p with 502 google_unavailable, storing nothing', async (expiresIn) => {
    const someone = await linked();
    const before = (await storedLink(app, someone.user.id))!;
    await expireAccessToken(someone.user.id);
    google.fail('refresh', { status: 200, body: { access_token: 'ya29.nonsense', expires_in: expiresIn, token_type: 'Bearer' } });

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(502);
    expect(reply.json().code).toBe('google_unavailable');
    expect((await storedLink(app, someone.user.id))!.accessToken).toBe(before.accessToken);
  });

  it.each(['from=9999-12-31', 'from=1800-01-01&to=1800-01-02', 'to=9999-12-31T00:00:00Z'])(
    'answers %s with 400 invalid_request, never asking Google',
    async (query) => {
      const someone = await linked();
      google.resetRequests();

      const reply = await someone.browser.get(`${OOO}?${query}`);

      expect(reply.status).toBe(400);
      expect(reply.json()).toMatchObject({ statusCode: 400, code: 'invalid_request' });
      expect(google.requests('calendar')).toHaveLength(0);
    },
  );

  it.each([
    ['a 503', { status: 503 }],
    ['a timeout', { delayMs: 1500 }],
    ['garbage', { garbage: true as const }],
  ])('answers %s from Calendar with 502 google_unavailable', async (_, fault) => {
    const someone = await linked();
    google.fail('calendar', fault);

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(502);
    expect(reply.json().code).toBe('google_unavailable');
  });

  it("answers Calendar's insufficient-scope 403 with 403 missing_scopes", async () => {
    const someone = await linked();
    google.fail('calendar', {
      status: 403,
      body: {
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          status: 'PERMISSION_DENIED',
          errors: [{ reason: 'insufficientPermissions' }],
        },
      },
    });

    const reply = await someone.browser.get(OOO);

    expect(reply.status).toBe(403);
    expect(reply.json().code).toBe('missing_scopes');
  });
});

describe('two instances on one database (e2e)', () => {
  let google: FakeGoogle;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    first = await startTestApp(google.env());
    // Behind one load balancer both instances share PUBLIC_URL; here it is the first one's address.
    second = await startTestApp({ ...google.env(), PUBLIC_URL: first.url }, first.database);
    google.redirectUri = `${first.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await second?.stop();
    await first?.close();
    await google?.stop();
  });

  it('completes on instance B a link started on instance A', async () => {
    const someone = await person(first);
    const consentUrl = (await someone.browser.get('/api/v1/auth/google/link')).json().url;
    const callback = new URL(await google.consent(consentUrl, { email: someone.user.email }));
    const onSecond = new HttpClient(second.url);
    for (const [name, value] of someone.browser.cookies) onSecond.cookies.set(name, value);

    const reply = await onSecond.get(`${callback.pathname}${callback.search}`);

    expect(reply.location).toBe(`${first.url}/users/me?google_link=success`);
    expect(await storedLink(first, someone.user.id)).not.toBeNull();
  });

  it('makes exactly one refresh at Google for concurrent requests spread over both processes', async () => {
    const someone = await person(first);
    await linkGoogle(first, google, someone);
    await first.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [someone.user.id]);
    google.resetRequests();
    const clients = [first.client(someone.bearer), second.client(someone.bearer)];

    const replies = await Promise.all(Array.from({ length: 30 }, (_, index) => clients[index % 2].get(OOO)));

    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(200));
    expect(google.requests('refresh')).toHaveLength(1);
    const tokensUsed = new Set(google.requests('calendar').map((request) => request.headers.authorization));
    expect(tokensUsed.size).toBe(1);
  });
});

describe('GOOGLE_API_RATE_LIMIT=3: per user, on the routes that call Google (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), GOOGLE_API_RATE_LIMIT: '3' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  const linked = async (): Promise<Person> => {
    const someone = await person(app, uniqueEmail('limit', 'gmail.com'));
    await linkGoogle(app, google, someone);
    return someone;
  };

  it("refuses a user's 4th request in a minute with 429 rate_limited and Retry-After, without calling Google, while another user is served", async () => {
    const [alice, bob] = [await linked(), await linked()];
    const first = await getTimes(3, alice.browser);
    google.resetRequests();

    const fourth = await alice.browser.get(OOO);
    const googleCalls = google.requests();
    const bobs = await bob.browser.get(OOO);

    expect(first).toEqual([200, 200, 200]);
    expectRateLimited(fourth);
    expect(googleCalls).toEqual([]);
    expect(bobs.status).toBe(200);
  });

  it('counts the user, not the address or the session: a second session of the same user shares the budget', async () => {
    const alice = await linked();
    const secondSession = await signedInUser(app.database, alice.user.email);
    const [viaCookie, viaBearer] = [alice.browser, app.client(secondSession.bearer)];
    expect(secondSession.user.id).toBe(alice.user.id);
    expect(secondSession.token).not.toBe(alice.token);

    const statuses = [(await viaCookie.get(OOO)).status, (await viaBearer.get(OOO)).status, (await viaCookie.get(OOO)).status];

    expect(statuses).toEqual([200, 200, 200]);
    expectRateLimited(await viaBearer.get(OOO));
  });

  it('answers 200 under the limit with the X-RateLimit headers of the auth limit', async () => {
    const alice = await linked();

    const reply = await alice.browser.get(OOO);

    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-ratelimit-limit')).toBe('3');
    expect(reply.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('spends nothing on requests without a session (401 first)', async () => {
    const alice = await linked();
    const anonymous = app.client();

    const refused = await getTimes(4, anonymous);
    const hers = await getTimes(3, alice.browser);

    expect(refused).toEqual([401, 401, 401, 401]);
    expect(hers).toEqual([200, 200, 200]);
  });
});

describe('GOOGLE_API_RATE_LIMIT=3 with REDIS_URL: one budget per user on every instance (e2e)', () => {
  let google: FakeGoogle;
  let first: TestApp;
  let second: TestApp;
  const userIds: string[] = [];

  beforeAll(async () => {
    google = await FakeGoogle.start();
    const env = { ...google.env(), GOOGLE_API_RATE_LIMIT: '3', REDIS_URL };
    first = await startTestApp(env);
    second = await startTestApp({ ...env, PUBLIC_URL: first.url }, first.database);
    google.redirectUri = `${first.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    if (userIds.length) {
      const redis = new Redis(REDIS_URL);
      await redis.del(...userIds.map((id) => `${RATE_LIMIT_KEY_PREFIX}${GOOGLE_API_KEY_PREFIX}${id}`));
      await redis.quit();
    }
    await second?.stop();
    await first?.close();
    await google?.stop();
  });

  it('spends one budget on both instances: 2 requests to one and 1 to the other, the 4th is refused on either', async () => {
    const alice = await person(first, uniqueEmail('shared', 'gmail.com'));
    userIds.push(alice.user.id);
    await linkGoogle(first, google, alice);
    const [onFirst, onSecond] = [first.client(alice.bearer), second.client(alice.bearer)];

    const statuses = [(await onFirst.get(OOO)).status, (await onSecond.get(OOO)).status, (await onFirst.get(OOO)).status];
    google.resetRequests();
    const fourth = await onSecond.get(OOO);
    const fifth = await onFirst.get(OOO);

    expect(statuses).toEqual([200, 200, 200]);
    expectRateLimited(fourth);
    expectRateLimited(fifth);
    expect(google.requests()).toEqual([]);
  });
});
