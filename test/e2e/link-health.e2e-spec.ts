import { randomBytes } from 'node:crypto';
import { TestDatabase } from '../support/database';
import { eventually } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, linkOutcome, person, Person, storedLink } from '../support/google-flows';
import { startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const CHECK_DAYS = 7;

/** SPEC "Link health": links not refreshed for GOOGLE_GRANT_CHECK_DAYS are refreshed in the background. */
describe('link health (e2e, the background check against a fake Google)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  let receiver: WebhookReceiver;
  const apps: TestApp[] = [];
  /** Instances share one database; the first runs the migrations before the next starts. */
  const start = async () => {
    const app = await startTestApp(
      {
        ...google.env(),
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_DELAY_SECONDS: '1',
        GOOGLE_HTTP_TIMEOUT_MS: '2000',
        GOOGLE_GRANT_CHECK_DAYS: String(CHECK_DAYS),
        GOOGLE_GRANT_CHECK_INTERVAL_SECONDS: '1',
        REVOCATION_RETRY_SECONDS: '1',
      },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    apps.push(app);
    return app;
  };

  const linked = async (app: TestApp): Promise<Person> => {
    const someone = await person(app);
    expect(linkOutcome(await linkGoogle(app, google, someone)).link).toBe('success');
    return someone;
  };
  /** Makes the link's tokens look `days` old, as if no request had needed them since. */
  const age = async (someone: Person, days: number): Promise<Date> => {
    const [row] = await database.query<{ at: Date }>(
      `UPDATE google_oauth2_users SET tokens_refreshed_at = now() - make_interval(days => $2) WHERE user_id = $1 RETURNING tokens_refreshed_at AS at`,
      [someone.user.id, days],
    );
    return row.at;
  };
  const refreshedAt = async (someone: Person): Promise<Date> =>
    (await database.query<{ at: Date }>(`SELECT tokens_refreshed_at AS at FROM google_oauth2_users WHERE user_id = $1`, [someone.user.id]))[0].at;
  const refreshesWith = (refreshToken: string) => google.requests('refresh').filter((request) => request.form.refresh_token === refreshToken);

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
    receiver = await WebhookReceiver.start();
  });
  afterEach(() => google.clearFaults());
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await receiver?.stop();
    await database?.drop();
    await google?.stop();
  });

  it('makes a stale link whose grant Google revoked needs_reauth, audited and webhooked, with no request from the person; a fresh one is not touched', async () => {
    const app = await start();
    const stale = await linked(app);
    const fresh = await linked(app);
    const staleToken = (await storedLink(app, stale.user.id))!.refreshToken;
    const freshToken = (await storedLink(app, fresh.user.id))!.refreshToken;
    const freshSince = await refreshedAt(fresh);
    // Both people removed the app's access in their Google Account; neither uses the service again.
    google.revokeAllFor(stale.user.email);
    google.revokeAllFor(fresh.user.email);

    await age(stale, CHECK_DAYS + 1);

    expect(await eventually(async () => (await storedLink(app, stale.user.id))?.status === 'needs_reauth')).toBe(true);
    const [hook] = await receiver.waitFor(() => receiver.deliveries(stale.user.id, 'google.reauth_required'));
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'google.reauth_required', data: { userId: stale.user.id, status: 'needs_reauth' } });
    expect((await auditActions(app, stale.user.id)).filter((event) => event.action === 'google.reauth_required')).toEqual([
      expect.objectContaining({ actor_id: null }),
    ]);
    expect(refreshesWith(staleToken)).toHaveLength(1);
    // The person's next request is told to reconnect, without another call to Google.
    expect((await stale.browser.get('/api/v1/users/me/google/out-of-office')).json()).toMatchObject({ code: 'google_reauth_required' });
    expect(refreshesWith(staleToken)).toHaveLength(1);

    expect(refreshesWith(freshToken)).toHaveLength(0);
    expect((await storedLink(app, fresh.user.id))?.status).toBe('active');
    expect(await refreshedAt(fresh)).toEqual(freshSince);
    expect(receiver.deliveries(fresh.user.id, 'google.reauth_required')).toHaveLength(0);
  });

  it('changes nothing while Google is unavailable, and checks the link again on later sweeps until Google answers', async () => {
    const app = apps[0] ?? (await start());
    const someone = await linked(app);
    const before = (await storedLink(app, someone.user.id))!;
    google.fail('refresh', { status: 503 }, Infinity);

    const agedAt = await age(someone, CHECK_DAYS + 1);

    // Two attempts: the failed check left the link due, and a later sweep queued it again.
    expect(await eventually(() => refreshesWith(before.refreshToken).length >= 2)).toBe(true);
    const during = (await storedLink(app, someone.user.id))!;
    expect(during.status).toBe('active');
    expect(during.accessToken).toBe(before.accessToken);
    expect(during.refreshToken).toBe(before.refreshToken);
    expect(await refreshedAt(someone)).toEqual(agedAt);
    expect((await auditActions(app, someone.user.id)).map((event) => event.action)).toEqual(['google.linked']);

    google.clearFaults();

    expect(await eventually(async () => (await refreshedAt(someone)).getTime() > agedAt.getTime())).toBe(true);
    const after = (await storedLink(app, someone.user.id))!;
    expect(after.status).toBe('active');
    expect(after.accessToken).not.toBe(before.accessToken);
    expect((await auditActions(app, someone.user.id)).map((event) => event.action)).toEqual(['google.linked']);
  });

  it('with two instances sweeping, and Google slow to answer, calls Google once per due link', async () => {
    const first = apps[0] ?? (await start());
    const people = await Promise.all([1, 2, 3, 4].map(() => person(first)));
    for (const someone of people) expect(linkOutcome(await linkGoogle(first, google, someone)).link).toBe('success');
    const refreshTokens = await Promise.all(people.map(async (someone) => (await storedLink(first, someone.user.id))!.refreshToken));
    await start();
    // Each refresh outlasts a sweep interval, so later sweeps on either instance find the links still due.
    google.fail('refresh', { delayMs: 1500 }, Infinity);

    const agedAt = await Promise.all(people.map((someone) => age(someone, CHECK_DAYS + 3)));

    expect(
      await eventually(async () => {
        const now = await Promise.all(people.map(refreshedAt));
        return now.every((at, index) => at.getTime() > agedAt[index].getTime());
      }, 30_000),
    ).toBe(true);
    // A few more sweeps, to catch a duplicate that would come late.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(refreshTokens.map((token) => refreshesWith(token).length)).toEqual([1, 1, 1, 1]);
  });

  it('keeps at most one pending run of each recurring job across instances, and runs them (the sweep, revocation retries)', async () => {
    while (apps.length < 2) await start();
    const recurring = ['link-health-sweep', 'google-revocation-retry', 'expired-rows-purge'];
    const pending = async () =>
      Object.fromEntries(
        (
          await database.query<{ name: string; count: number }>(
            `SELECT name, count(*)::int AS count FROM pgboss.job WHERE name = ANY($1) AND state = 'created' GROUP BY name`,
            [recurring],
          )
        ).map(({ name, count }) => [name, count]),
      );
    const completed = async (name: string) =>
      (await database.query<{ count: number }>(`SELECT count(*)::int AS count FROM pgboss.job WHERE name = $1 AND state = 'completed'`, [name]))[0].count;
    const before = await completed('google-revocation-retry');

    const samples: Array<Record<string, number>> = [];
    for (let sample = 0; sample < 20; sample += 1) {
      samples.push(await pending());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    for (const counts of samples) for (const name of recurring) expect(counts[name] ?? 0).toBeLessThanOrEqual(1);
    // The purge runs every five minutes: its one pending run is there, waiting.
    expect(samples.every((counts) => counts['expired-rows-purge'] === 1)).toBe(true);
    expect(await completed('link-health-sweep')).toBeGreaterThan(0);
    expect(await eventually(async () => (await completed('google-revocation-retry')) > before)).toBe(true);
  });
});
