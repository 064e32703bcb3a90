import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TestDatabase } from '../support/database';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person } from '../support/google-flows';
import { startTestApp, TestApp } from '../support/test-app';
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
    expect(app.logs.some((line) => line.includes('Webhook delivered') && line.includes(event.id))).toBe(true);
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
});
