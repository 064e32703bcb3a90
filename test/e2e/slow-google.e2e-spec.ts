import { eventually, within } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person, Person, storedLink } from '../support/google-flows';
import { Reply } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const OOO = '/api/v1/users/me/google/out-of-office';
// Far longer than any timeout of the service: the token endpoint never answers while a test runs.
const HANG = { delayMs: 120_000 };
const NO_HANG_MS = 30_000;

const linked = async (app: TestApp, google: FakeGoogle): Promise<Person> => {
  const someone = await person(app, uniqueEmail('slow', 'gmail.com'));
  const reply = await linkGoogle(app, google, someone);
  if (!reply.location?.includes('google_link=success')) throw new Error(`link failed: ${reply.location}`);
  return someone;
};
const expire = (app: TestApp, userIds: string[]) =>
  app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = ANY($1)`, [userIds]);
/** The service's connections (application_name google-link) sitting in an open transaction. */
const idleInTransaction = async (app: TestApp) =>
  (
    await app.database.query<{ count: string }>(
      `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'google-link' AND state LIKE 'idle in transaction%'`,
    )
  )[0].count;
const leases = (app: TestApp, userIds: string[]) =>
  app.database.query<{ refresh_lease_id: string | null }>('SELECT refresh_lease_id FROM google_oauth2_users WHERE user_id = ANY($1)', [userIds]);

/** Sends the requests and remembers which have answered. */
const tracked = (requests: Array<Promise<Reply>>) => {
  let answered = 0;
  const all = Promise.all(requests.map((request) => request.finally(() => (answered += 1))));
  return { all, answered: () => answered };
};

describe('a hanging Google token endpoint: no database connection held, unrelated routes unharmed (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    // A Google timeout longer than the pool's connection wait (5 s): a connection held across the call would starve everyone.
    app = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '8000' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it('30 people refreshing at once: users/me of someone else and /health/ready keep answering 200, no connection idles in a transaction', async () => {
    const people = [];
    for (let index = 0; index < 30; index += 1) people.push(await linked(app, google));
    const ids = people.map((someone) => someone.user.id);
    const bystander = await signedInUser(app.database, uniqueEmail('bystander'));
    await expire(app, ids);
    google.resetRequests();
    google.fail('refresh', HANG, Infinity);

    const stuck = tracked(people.map((someone) => someone.browser.get(OOO)));
    // At least a pool's worth (10) of calls to Google in flight before the bystander starts.
    expect(await eventually(() => google.requests('refresh').length >= 10)).toBe(true);

    const unrelated: number[] = [];
    for (let round = 0; round < 15; round += 1) {
      unrelated.push((await app.client(bystander.bearer).get('/api/v1/users/me')).status);
      unrelated.push((await app.client().get('/health/ready')).status);
    }
    const holding = await idleInTransaction(app);
    const allInFlight = await eventually(() => google.requests('refresh').length === 30);
    const answeredMeanwhile = stuck.answered();

    expect(unrelated).toEqual(Array(30).fill(200));
    expect(holding).toBe('0');
    expect(allInFlight).toBe(true);
    // All of that happened while every call to Google was still hanging.
    expect(answeredMeanwhile).toBe(0);
    const replies = await within(NO_HANG_MS, () => stuck.all);
    google.clearFaults();
    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(502));
    expect(replies.map((reply) => reply.json().code)).toEqual(Array(30).fill('google_unavailable'));
    // Each holder gave its lease back: the next request tries Google again at once.
    expect((await leases(app, ids)).map((row) => row.refresh_lease_id)).toEqual(Array(30).fill(null));
    expect((await people[0].browser.get(OOO)).status).toBe(200);
  });
});

describe('the refresh lease across instances (e2e)', () => {
  let google: FakeGoogle;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    first = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '3000' });
    second = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '3000', PUBLIC_URL: first.url }, first.database);
    google.redirectUri = `${first.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await second?.stop();
    await first?.close();
    await google?.stop();
  });

  it('a slow refresh (1.5 s) raced by 20 requests on two instances: one call to Google, everyone gets its token', async () => {
    const someone = await linked(first, google);
    await expire(first, [someone.user.id]);
    google.resetRequests();
    google.fail('refresh', { delayMs: 1_500 });
    const clients = [first.client(someone.bearer), second.client(someone.bearer)];

    const replies = tracked(Array.from({ length: 20 }, (_, index) => clients[index % 2].get(OOO)));
    expect(await eventually(() => google.requests('refresh').length === 1)).toBe(true);
    const holding = await idleInTransaction(first);

    expect(holding).toBe('0');
    expect((await within(NO_HANG_MS, () => replies.all)).map((reply) => reply.status)).toEqual(Array(20).fill(200));
    expect(google.requests('refresh')).toHaveLength(1);
    expect(new Set(google.requests('calendar').map((request) => request.headers.authorization)).size).toBe(1);
    expect((await storedLink(first, someone.user.id))!.accessToken).toBe(String(google.requests('calendar')[0].headers.authorization).slice(7));
  });

  it('a holder that crashed mid-refresh blocks no one for good: its lease expires and the next request refreshes', async () => {
    const doomed = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '3000', PUBLIC_URL: first.url }, first.database);
    const someone = await linked(first, google);
    await expire(first, [someone.user.id]);
    google.resetRequests();
    google.fail('refresh', HANG);
    void doomed
      .client(someone.bearer)
      .get(OOO)
      .catch(() => undefined);
    expect(await eventually(() => google.requests('refresh').length === 1)).toBe(true);
    expect((await leases(first, [someone.user.id]))[0].refresh_lease_id).not.toBeNull();

    doomed.process.kill('SIGKILL');
    await doomed.stop();
    const reply = await within(NO_HANG_MS, () => second.client(someone.bearer).get(OOO));

    expect(reply.status).toBe(200);
    expect(google.requests('refresh')).toHaveLength(2);
    expect((await leases(first, [someone.user.id]))[0].refresh_lease_id).toBeNull();
    expect((await storedLink(first, someone.user.id))!.accessToken).toBe(String(google.requests('calendar').at(-1)!.headers.authorization).slice(7));
  });

  it('a holder whose lease was taken over meanwhile does not overwrite what the new holder stored', async () => {
    const someone = await linked(first, google);
    const before = (await storedLink(first, someone.user.id))!;
    await expire(first, [someone.user.id]);
    google.resetRequests();
    google.fail('refresh', { delayMs: 1_500 });

    const pending = first.client(someone.bearer).get(OOO);
    expect(await eventually(() => google.requests('refresh').length === 1)).toBe(true);
    // As if the lease had expired and another instance had claimed it and stored a fresh token.
    await first.database.query(
      `UPDATE google_oauth2_users SET refresh_lease_id = gen_random_uuid(), access_token_expires_at = now() + interval '1 hour' WHERE user_id = $1`,
      [someone.user.id],
    );
    const reply = await within(NO_HANG_MS, () => pending);

    expect(reply.status).toBe(200);
    expect((await storedLink(first, someone.user.id))!.accessToken).toBe(before.accessToken);
    expect(google.requests('calendar').map((request) => request.headers.authorization)).toEqual([`Bearer ${before.accessToken}`]);
  });

  it('invalid_grant under the lease: 409 google_reauth_required on both instances, needs_reauth, one audit event, the lease freed', async () => {
    const someone = await linked(first, google);
    google.revokeAllFor(someone.user.email);
    await expire(first, [someone.user.id]);
    google.resetRequests();

    const replies = await Promise.all(Array.from({ length: 6 }, (_, index) => [first, second][index % 2].client(someone.bearer).get(OOO)));

    expect(replies.map((reply) => reply.json().code)).toEqual(Array(6).fill('google_reauth_required'));
    expect(google.requests('refresh')).toHaveLength(1);
    expect((await storedLink(first, someone.user.id))!.status).toBe('needs_reauth');
    const events = await first.database.query(`SELECT 1 FROM audit_events WHERE user_id = $1 AND action = 'google.reauth_required'`, [someone.user.id]);
    expect(events).toHaveLength(1);
    expect((await leases(first, [someone.user.id]))[0].refresh_lease_id).toBeNull();
  });
});
