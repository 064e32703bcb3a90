import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TestDatabase } from '../support/database';
import { eventually } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person } from '../support/google-flows';
import { signedInUser, SignedIn, uniqueEmail } from '../support/sessions';
import { freePort, startTestApp, TestApp } from '../support/test-app';
import { queueWebhookEvents } from '../support/webhook-jobs';
import { ReceivedWebhook, WebhookReceiver } from '../support/webhook-receiver';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/** The Standard Webhooks signature, computed here from the spec rather than by the library. */
function expectedSignature(hook: ReceivedWebhook): string {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const signed = `${String(hook.headers['webhook-id'])}.${String(hook.headers['webhook-timestamp'])}.${hook.body}`;
  return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
}

/** SPEC "Webhooks": audit events POSTed, signed, at least once from a transactional outbox. */
describe('webhooks (e2e, a real receiver on loopback)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  let receiver: WebhookReceiver;
  const apps: TestApp[] = [];
  /** Instances share one database; the first runs the migrations before the next starts. */
  const start = async (env: Record<string, string> = {}) => {
    const app = await startTestApp(
      { ...google.env(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECONDS: '1', GOOGLE_HTTP_TIMEOUT_MS: '2000', ...env },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
    receiver = await WebhookReceiver.start();
  });
  afterEach(() => {
    receiver.answer = () => 200;
    receiver.delayMs = 0;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await receiver?.stop();
    await database?.drop();
    await google?.stop();
  });

  it('POSTs a linked account as a signed Standard Webhooks message, with no token or email in it', async () => {
    const app = await start();
    const ada = await person(app);

    await linkGoogle(app, google, ada);
    const [hook] = await receiver.waitFor(() => receiver.deliveries(ada.user.id, 'google.linked'));

    const [event] = await database.query<{ id: string; google_user_id: string; created_at: Date }>(
      `SELECT id, google_user_id, created_at FROM audit_events WHERE user_id = $1 AND action = 'google.linked'`,
      [ada.user.id],
    );
    expect(JSON.parse(hook.body)).toEqual({
      type: 'google.linked',
      id: event.id,
      timestamp: event.created_at.toISOString(),
      data: { userId: ada.user.id, googleUserId: event.google_user_id, status: 'active' },
    });
    expect(hook.headers['webhook-id']).toBe(event.id);
    expect(String(hook.headers['webhook-timestamp'])).toMatch(/^\d{10}$/);
    expect(hook.headers['webhook-signature']).toBe(expectedSignature(hook));
    expect(() => new Webhook(SECRET).verify(hook.body, hook.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(24).toString('base64')}`).verify(hook.body, hook.headers as Record<string, string>)).toThrow();
    expect(hook.body).not.toContain(ada.user.email);
    expect(hook.body).not.toMatch(/token|code/i);
    // Logged once the receiver's answer is in, and read from the instance's stdout: a moment after the receiver has it.
    expect(await eventually(() => app.logs.some((line) => line.includes('Webhook delivered') && line.includes(event.id)))).toBe(true);
  });

  it('retries a non-2xx answer with backoff until the receiver takes it', async () => {
    const app = apps[0] ?? (await start());
    const bob = await person(app);
    receiver.answer = (_body, attempt) => (attempt <= 2 ? 503 : 204);

    await linkGoogle(app, google, bob);
    const attempts = await receiver.waitFor(() => receiver.deliveries(bob.user.id, 'google.linked'), 3);

    expect(attempts.map((hook) => hook.status)).toEqual([503, 503, 204]);
    expect(new Set(attempts.map((hook) => hook.headers['webhook-id'])).size).toBe(1);
  });

  it('delivers after a crash (SIGKILL) what was committed but not yet delivered', async () => {
    const first = await start();
    const cy = await person(first);
    receiver.answer = () => 500;
    await linkGoogle(first, google, cy);
    await receiver.waitFor(() => receiver.deliveries(cy.user.id, 'google.linked'));
    // Killed once the failed attempt is recorded: committed, queued for retry, not delivered.
    // (A worker killed mid-attempt leaves its job active until expireInSeconds, then it is retried too.)
    while ((await database.query(`SELECT 1 FROM pgboss.job WHERE state = 'retry' AND data->'data'->>'userId' = $1`, [cy.user.id])).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    first.process.kill('SIGKILL');
    await first.stop();
    receiver.answer = () => 200;
    await start();
    const attempts = await receiver.waitFor(() => receiver.deliveries(cy.user.id, 'google.linked').filter((hook) => hook.status === 200));

    expect(attempts).toHaveLength(1);
  });

  it('with two instances, delivers each event by one at a time', async () => {
    await start();
    const two = await start();
    receiver.delayMs = 300;
    receiver.maxInFlightPerId = 0;
    const people = await Promise.all([1, 2, 3, 4, 5, 6].map(() => person(two)));

    // Linked through the second (the fake Google knows one redirect URI); both instances work the queue.
    await Promise.all(people.map((someone) => linkGoogle(two, google, someone)));
    for (const someone of people) await receiver.waitFor(() => receiver.deliveries(someone.user.id, 'google.linked'));

    expect(receiver.maxInFlightPerId).toBe(1);
    expect(people.map((someone) => receiver.deliveries(someone.user.id, 'google.linked').length)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('delivers a backlog of 400 queued events, each once, far sooner than one a second would', async () => {
    // The instances of the tests before (four running; one if run alone) share the queue. One delivery
    // per poll, a second apart, would need 100 s or more; the bound below is for a hang, far above need.
    if (apps.length === 0) await start();
    const userId = randomUUID();
    receiver.delayMs = 20;
    receiver.maxInFlightPerId = 0;
    await queueWebhookEvents((sql, params) => database.query(sql, params), userId, 400);

    const allDelivered = await eventually(() => receiver.deliveries(userId).length >= 400, 30_000, 100);
    const completed = await eventually(
      async () => (await database.query(`SELECT 1 FROM pgboss.job WHERE data->'data'->>'userId' = $1 AND state = 'completed'`, [userId])).length === 400,
      10_000,
    );

    expect({ allDelivered, completed }).toEqual({ allDelivered: true, completed: true });
    const ids = receiver.deliveries(userId).map((hook) => String(hook.headers['webhook-id']));
    expect({ deliveries: ids.length, events: new Set(ids).size }).toEqual({ deliveries: 400, events: 400 });
    expect(receiver.maxInFlightPerId).toBe(1);
  });

  it('retries only the deliveries that failed, not the others fetched with them', async () => {
    if (apps.length === 0) await start();
    const userId = randomUUID();
    // About half the events (by their id) are refused once, delivered on the retry.
    const refusedOnce = (id: string) => parseInt(id.at(-1)!, 16) < 8;
    receiver.answer = (body, attempt) => (attempt === 1 && refusedOnce((JSON.parse(body) as { id: string }).id) ? 503 : 204);
    await queueWebhookEvents((sql, params) => database.query(sql, params), userId, 60);

    const completed = await eventually(
      async () => (await database.query(`SELECT 1 FROM pgboss.job WHERE data->'data'->>'userId' = $1 AND state = 'completed'`, [userId])).length === 60,
      30_000,
    );

    expect(completed).toBe(true);
    const attempts = new Map<string, number[]>();
    for (const hook of receiver.deliveries(userId)) {
      const id = String(hook.headers['webhook-id']);
      attempts.set(id, [...(attempts.get(id) ?? []), hook.status]);
    }
    expect(attempts.size).toBe(60);
    for (const [id, statuses] of attempts) expect([id, statuses]).toEqual([id, refusedOnce(id) ? [503, 204] : [204]]);
  });

  it('never commits a new session without its audit event and webhook job (token exchange: no transaction of the caller)', async () => {
    const app = await start();
    const email = uniqueEmail('outbox-session', 'gmail.com');
    const exchange = async () => app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ email }) });
    const sessionsOf = () => database.query('SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1', [email]);
    const sessionEvents = () =>
      database.query(`SELECT a.id FROM audit_events a JOIN users u ON u.id = a.user_id WHERE u.email = $1 AND a.action = 'session.created'`, [email]);
    // The session.created job cannot be written, as if the instance died after the audit event's insert.
    await database.query(`CREATE FUNCTION refuse_session_job() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.data->>'type' = 'session.created' THEN RAISE EXCEPTION 'no session job'; END IF; RETURN NEW; END $$`);
    await database.query('CREATE TRIGGER refuse_session_job BEFORE INSERT ON pgboss.job FOR EACH ROW EXECUTE FUNCTION refuse_session_job()');
    let refused;
    try {
      refused = await exchange();
    } finally {
      await database.query('DROP TRIGGER refuse_session_job ON pgboss.job');
      await database.query('DROP FUNCTION refuse_session_job()');
    }

    expect(refused.status).toBe(500);
    expect(await sessionsOf()).toEqual([]);
    expect(await sessionEvents()).toEqual([]);
    const accepted = await exchange();
    expect(accepted.status).toBe(200);
    expect(await sessionsOf()).toHaveLength(1);
    const [event] = await sessionEvents();
    const [hook] = await receiver.waitFor(() => receiver.received.filter((delivery) => delivery.headers['webhook-id'] === (event as { id: string }).id));
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'session.created' });
    await app.stop();
  });
});

/** The value of one sample line of a /metrics scrape, e.g. `webhook_queue_jobs{state="retrying"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface FailedPage {
  items: Array<{ id: string; eventId: string; type: string; userId: string; attempts: number; lastError: string | null; failedAt: string }>;
  nextCursor: string | null;
}

/** Deliveries out of retries: metrics, the admin list, an admin's retry (small retry settings: one retry, 1 s apart). */
describe('failed webhook deliveries (e2e)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  let receiver: WebhookReceiver;
  let app: TestApp;
  let admin: SignedIn;

  const failedList = async (query = '') => {
    const reply = await app.client(admin.bearer).get(`/api/v1/admin/webhooks/failed${query}`);
    expect(reply.status).toBe(200);
    return reply.json<FailedPage>();
  };
  /** Polls the admin list until the event is there (for at most 30 s, a bound for a hang). */
  const failedItem = async (eventId: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = (await failedList('?limit=100')).items.find((item) => item.eventId === eventId);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`${eventId} is not in the failed list after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const linkedEventId = async (userId: string) =>
    (await database.query<{ id: string }>(`SELECT id FROM audit_events WHERE user_id = $1 AND action = 'google.linked'`, [userId]))[0].id;

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
    receiver = await WebhookReceiver.start();
    app = await startTestApp(
      { ...google.env(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECONDS: '1', WEBHOOK_RETRY_LIMIT: '1' },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    admin = await signedInUser(database, uniqueEmail('hooks-admin'), { admin: true });
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
    await database?.drop();
    await google?.stop();
  });

  it('lists a delivery out of retries, and an admin retry delivers it once the receiver recovers', async () => {
    receiver.answer = () => 503;
    const ada = await person(app);
    await linkGoogle(app, google, ada);
    const eventId = await linkedEventId(ada.user.id);

    const item = await failedItem(eventId);
    expect(item).toEqual({
      id: eventId,
      eventId,
      type: 'google.linked',
      userId: ada.user.id,
      attempts: 2,
      lastError: 'webhook receiver answered 503',
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(receiver.deliveries(ada.user.id, 'google.linked').map((hook) => hook.status)).toEqual([503, 503]);

    receiver.answer = () => 200;
    const retry = await app.client(admin.bearer).post(`/api/v1/admin/webhooks/failed/${eventId}/retry`);
    expect(retry.status).toBe(202);
    const attempts = await receiver.waitFor(() => receiver.deliveries(ada.user.id, 'google.linked'), 3);

    expect(attempts.map((hook) => hook.status)).toEqual([503, 503, 200]);
    expect(new Set(attempts.map((hook) => hook.headers['webhook-id']))).toEqual(new Set([eventId]));
    expect(() => new Webhook(SECRET).verify(attempts[2].body, attempts[2].headers as Record<string, string>)).not.toThrow();
    while ((await database.query(`SELECT 1 FROM pgboss.job WHERE id = $1 AND state = 'completed'`, [eventId])).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await failedList('?limit=100')).items.map((failed) => failed.eventId)).not.toContain(eventId);
    // Delivered now: not failed, so a second retry is refused.
    const again = await app.client(admin.bearer).post(`/api/v1/admin/webhooks/failed/${eventId}/retry`);
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ statusCode: 409, code: 'webhook_not_failed' });
  });

  it('counts each attempt by outcome and reason at GET /metrics', async () => {
    const metrics = await app.client().get('/metrics');

    expect(metrics.status).toBe(200);
    expect(sample(metrics.body, 'webhook_deliveries_total{outcome="failed_will_retry",reason="status_5xx"}')).toBe(1);
    expect(sample(metrics.body, 'webhook_deliveries_total{outcome="exhausted",reason="status_5xx"}')).toBe(1);
    expect(sample(metrics.body, 'webhook_deliveries_total{outcome="delivered",reason="ok"}')).toBe(1);
    expect(sample(metrics.body, 'webhook_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(metrics.body, 'webhook_queue_jobs{state="retrying"}')).toBe(0);
    expect(sample(metrics.body, 'webhook_oldest_undelivered_seconds')).toBe(0);
  });

  it('pages the failed list newest first with an opaque cursor, and answers 400 for a bad limit or cursor', async () => {
    receiver.answer = () => 500;
    const people = [await person(app), await person(app)];
    for (const someone of people) await linkGoogle(app, google, someone);
    const ids = await Promise.all(people.map((someone) => linkedEventId(someone.user.id)));
    for (const id of ids) await failedItem(id);

    const first = await failedList('?limit=1');
    const second = await failedList(`?limit=1&cursor=${encodeURIComponent(first.nextCursor!)}`);

    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(second.items).toHaveLength(1);
    expect(second.items[0].failedAt <= first.items[0].failedAt).toBe(true);
    expect(new Set([first.items[0].eventId, second.items[0].eventId])).toEqual(new Set(ids));
    const client = app.client(admin.bearer);
    for (const query of ['?limit=0', '?limit=101', '?limit=x', '?cursor=not-a-cursor', `?cursor=${Buffer.from('["x","y"]').toString('base64url')}`]) {
      const reply = await client.get(`/api/v1/admin/webhooks/failed${query}`);
      expect([query, reply.status, reply.json<{ code: string }>().code]).toEqual([query, 400, 'invalid_request']);
    }
    receiver.answer = () => 200;
  });

  it('pages past deliveries that failed in the same microsecond (one statement fails a batch of them)', async () => {
    const userId = randomUUID();
    await queueWebhookEvents((sql, params) => database.query(sql, params), userId, 3, { failedAt: '2026-01-01T00:00:00.123456Z' });
    const ids = (await database.query<{ id: string }>(`SELECT id FROM pgboss.job WHERE data->'data'->>'userId' = $1`, [userId])).map((row) => row.id);

    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: FailedPage = await failedList(`?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    }

    expect(seen.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('needs an admin: 401 without a session, 403 for a user; 404 for an unknown id, 400 for one that is not a UUID', async () => {
    const user = await signedInUser(database, uniqueEmail('hooks-user'));
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/admin/webhooks/failed'],
      ['POST', '/api/v1/admin/webhooks/failed/6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f/retry'],
    ];
    for (const [method, path] of routes) {
      expect((await app.client().request(method, path)).status).toBe(401);
      expect((await app.client(user.bearer).request(method, path)).status).toBe(403);
    }
    const client = app.client(admin.bearer);
    const unknown = await client.post('/api/v1/admin/webhooks/failed/6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f/retry');
    const malformed = await client.post('/api/v1/admin/webhooks/failed/not-a-uuid/retry');
    const listed = await client.get('/api/v1/admin/webhooks/failed');

    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'webhook_not_found' });
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'invalid_request', message: 'id must be a UUID' });
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.body).not.toContain(receiver.url);
    expect(listed.body).not.toContain(SECRET);
  });
});

/** The backlog gauges while a delivery waits for its retry, and a refused connection's reason. */
describe('webhook backlog metrics (e2e)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
    // Nothing listens on this port: every attempt is refused, and the retry is an hour away.
    app = await startTestApp(
      { ...google.env(), WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hooks`, WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_DELAY_SECONDS: '3600' },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
    await google?.stop();
  });

  it('shows the delivery retrying, its age, and the refused attempt', async () => {
    const ada = await person(app);
    await linkGoogle(app, google, ada);
    while ((await database.query(`SELECT 1 FROM pgboss.job WHERE state = 'retry' AND data->'data'->>'userId' = $1`, [ada.user.id])).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const metrics = (await app.client().get('/metrics')).body;

    expect(sample(metrics, 'webhook_deliveries_total{outcome="failed_will_retry",reason="refused"}')).toBe(1);
    expect(sample(metrics, 'webhook_queue_jobs{state="retrying"}')).toBe(1);
    expect(sample(metrics, 'webhook_queue_jobs{state="waiting"}')).toBe(0);
    expect(sample(metrics, 'webhook_oldest_undelivered_seconds')).toBeGreaterThan(0);
    const [job] = await database.query<{ output: { message: string } }>(`SELECT output FROM pgboss.job WHERE data->'data'->>'userId' = $1`, [ada.user.id]);
    expect(job.output.message).toBe('webhook receiver refused the connection');
  });
});

/** SIGTERM while deliveries are in flight: the instance waits for them (pg-boss's graceful stop, up to 10 s). */
describe('webhook delivery at shutdown (e2e)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
    await database?.drop();
    await google?.stop();
  });

  it('finishes and completes the deliveries in flight before it exits', async () => {
    const app = await startTestApp({ ...google.env(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, GOOGLE_HTTP_TIMEOUT_MS: '5000' }, database);
    const userId = randomUUID();
    const jobs = () => database.query<{ state: string }>(`SELECT state FROM pgboss.job WHERE data->'data'->>'userId' = $1`, [userId]);
    receiver.delayMs = 2000;
    await queueWebhookEvents((sql, params) => database.query(sql, params), userId, 10);
    const inFlight = await eventually(async () => (await jobs()).filter((job) => job.state === 'active').length === 10, 15_000, 50);

    const code = await app.stop();

    expect({ inFlight, code }).toEqual({ inFlight: true, code: 0 });
    expect(receiver.deliveries(userId).map((hook) => hook.status)).toEqual(Array(10).fill(200));
    expect((await jobs()).map((job) => job.state)).toEqual(Array(10).fill('completed'));
  });
});
