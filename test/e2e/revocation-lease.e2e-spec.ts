import { TestDatabase } from '../support/database';
import { eventually } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, linkOutcome, person, Person, storedLink } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const HTTP_TIMEOUT_MS = 1000;
// src/users/google-revocations.service.ts revocationLeaseSeconds(1000): 2 × 1 s + 5 s.
const LEASE_SECONDS = 7;
// The retry pass's interval, and the first backoff: no row is due again while the three unlinks run.
const RETRY_SECONDS = 3;

/**
 * An instance killed while its retry pass is sending a revocation holds back that one revocation for
 * one short lease: another instance sends it, and every other due one, well before the 5 minutes a
 * batch claim used to hold them all (and the next instance never sends one that a live pass holds).
 */
describe('Revocation retries survive a killed instance (e2e)', () => {
  let google: FakeGoogle;
  let database: TestDatabase;
  let killed: TestApp | undefined;
  let survivor: TestApp | undefined;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    database = await TestDatabase.create();
  });
  afterAll(async () => {
    killed?.process.kill('SIGKILL');
    await survivor?.stop();
    await killed?.stop();
    await database?.drop();
    await google?.stop();
  });

  const env = () => ({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: String(HTTP_TIMEOUT_MS), REVOCATION_RETRY_SECONDS: String(RETRY_SECONDS) });
  const queued = async () =>
    database.query<{ id: string; leased_for: number }>('SELECT id, EXTRACT(EPOCH FROM next_attempt_at - now())::float AS leased_for FROM google_revocations');

  it('another instance sends what the killed one held, once the lease runs out', async () => {
    killed = await startTestApp(env(), database);
    google.redirectUri = `${killed.url}/api/v1/auth/google/callback`;
    const people: Person[] = [];
    const refreshTokens: string[] = [];
    for (const name of ['ada', 'bob', 'cy']) {
      const someone = await person(killed, uniqueEmail(name, 'gmail.com'));
      expect(linkOutcome(await linkGoogle(killed, google, someone))).toMatchObject({ link: 'success' });
      refreshTokens.push((await storedLink(killed, someone.user.id))!.refreshToken);
      people.push(someone);
    }
    // Google's revocation endpoint hangs: every attempt is cut at the HTTP timeout and rescheduled.
    google.fail('revoke', { delayMs: 60_000 }, 1000);
    const unlinks = await Promise.all(people.map((someone) => killed!.client(someone.bearer).delete('/api/v1/users/me/google')));
    expect(unlinks.map((reply) => reply.status)).toEqual([204, 204, 204]);
    const afterUnlinks = google.requests('revoke').length;

    // The retry pass is now sending one of them (its request hangs at Google): kill the instance there.
    expect(await eventually(() => google.requests('revoke').length > afterUnlinks, 15_000, 20)).toBe(true);
    killed.process.kill('SIGKILL');
    await killed.stop();
    const rows = await queued();
    expect(rows).toHaveLength(3);
    // Only the row in flight is held, and only for the lease (beyond the first backoff); the others are due to any instance.
    for (const row of rows) expect(row.leased_for).toBeLessThanOrEqual(LEASE_SECONDS);
    expect(rows.filter((row) => row.leased_for > RETRY_SECONDS + 0.5).length).toBeLessThanOrEqual(1);

    google.clearFaults();
    survivor = await startTestApp(env(), database);
    expect(await eventually(async () => (await queued()).length === 0, (LEASE_SECONDS + RETRY_SECONDS + 10) * 1000, 250)).toBe(true);
    for (const token of refreshTokens) expect(google.isLive(token)).toBe(false);
  });
});
