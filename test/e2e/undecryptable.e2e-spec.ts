import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, linkOutcome, person, Person } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const NEW_KEY = 'test2:' + Buffer.alloc(32, 9).toString('base64');
const OOO = '/api/v1/users/me/google/out-of-office';

interface RawLink {
  id: string;
  google_user_id: string;
  access_token: string;
  refresh_token: string;
}

/**
 * SPEC "The signed-in user" and "Linking": a link whose stored tokens can no longer be decrypted
 * (its key retired from ENCRYPTION_KEYS, or the value damaged) is never stuck: it unlinks (204,
 * audited, the log naming the key id) and it can be replaced by a new link.
 */
describe('a link that cannot be decrypted is never stuck (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;
  let admin: Person;
  /** Linked under test1, which the running service no longer has. */
  const retired = {} as Record<'self' | 'admin' | 'other' | 'same' | 'fresh', Person>;
  const accounts: Record<string, string> = {};
  const rawLink = async (userId: string) =>
    (await app.database.query<RawLink>('SELECT id, google_user_id, access_token, refresh_token FROM google_oauth2_users WHERE user_id = $1', [userId]))[0];
  const linesWith = (text: string) => app.logs.filter((line) => line.includes(text));

  beforeAll(async () => {
    google = await FakeGoogle.start();
    const before = await startTestApp(google.env());
    google.redirectUri = `${before.url}/api/v1/auth/google/callback`;
    for (const name of ['self', 'admin', 'other', 'same', 'fresh'] as const) {
      accounts[name] = uniqueEmail(`retired-${name}`, 'gmail.com');
      retired[name] = await person(before, accounts[name]);
      await linkGoogle(before, google, retired[name]);
    }
    await before.stop();
    // test1 retired: the same database and port, ENCRYPTION_KEYS without it.
    app = await startTestApp(
      { ...google.env(), PORT: before.env.PORT, DATA_DIR: before.env.DATA_DIR, ENCRYPTION_KEYS: NEW_KEY, REVOCATION_RETRY_SECONDS: '1' },
      before.database,
    );
    admin = await person(app, uniqueEmail('admin'), { admin: true });
  });
  afterAll(async () => {
    await app?.stop();
    await app?.database.drop();
    await google?.stop();
  });
  beforeEach(() => google.resetRequests());

  it('self unlink under a retired key: 204, the link deleted and audited, the log naming the key id and no value, nothing sent to Google', async () => {
    const someone = retired.self;
    const stored = await rawLink(someone.user.id);

    const reply = await someone.browser.delete('/api/v1/users/me/google');

    expect(reply.status).toBe(204);
    expect(await rawLink(someone.user.id)).toBeUndefined();
    expect((await auditActions(app, someone.user.id)).at(-1)).toEqual({
      action: 'google.unlinked',
      actor_id: someone.user.id,
      google_user_id: stored.google_user_id,
    });
    expect(google.requests('revoke')).toHaveLength(0);
    const logged = linesWith(someone.user.id).filter((line) => line.includes('cannot be decrypted'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0])).toMatchObject({ keyId: 'test1', googleUserId: stored.google_user_id });
    expect(app.logs.join('\n')).not.toContain(stored.refresh_token);
    expect((await someone.browser.get('/api/v1/users/me')).json()).toMatchObject({ googleAccount: null });
  });

  it('admin unlink under a retired key: 204, deleted, audited with the admin as actor', async () => {
    const someone = retired.admin;

    const reply = await app.client(admin.bearer).delete(`/api/v1/admin/users/${someone.user.id}/google`);

    expect(reply.status).toBe(204);
    expect(await rawLink(someone.user.id)).toBeUndefined();
    expect((await auditActions(app, someone.user.id)).at(-1)).toMatchObject({ action: 'google.unlinked', actor_id: admin.user.id });
    expect(linesWith(someone.user.id).some((line) => line.includes('"keyId":"test1"'))).toBe(true);
  });

  it('unlinks a damaged value under a configured key: 204, the log naming its key id', async () => {
    const someone = await person(app, uniqueEmail('damaged', 'gmail.com'));
    await linkGoogle(app, google, someone);
    const stored = await rawLink(someone.user.id);
    await app.database.query('UPDATE google_oauth2_users SET refresh_token = $1 WHERE id = $2', [stored.refresh_token.slice(0, -8) + 'AAAAAAAA', stored.id]);
    google.resetRequests();

    const reply = await someone.browser.delete('/api/v1/users/me/google');

    expect(reply.status).toBe(204);
    expect(await rawLink(someone.user.id)).toBeUndefined();
    expect(google.requests('revoke')).toHaveLength(0);
    expect(linesWith(someone.user.id).some((line) => line.includes('"keyId":"test2"') && line.includes('cannot be decrypted'))).toBe(true);
  });

  it('re-links to another Google account over an undecryptable link: the old grant is logged by key id, not revoked, and the new link works', async () => {
    const someone = retired.other;
    const previous = await rawLink(someone.user.id);

    const reply = await linkGoogle(app, google, someone, { email: uniqueEmail('replacement', 'gmail.com') });

    expect(linkOutcome(reply)).toMatchObject({ link: 'success' });
    expect((await rawLink(someone.user.id)).google_user_id).not.toBe(previous.google_user_id);
    expect((await auditActions(app, someone.user.id)).at(-1)).toMatchObject({ action: 'google.relinked' });
    expect(google.requests('revoke')).toHaveLength(0);
    expect(linesWith(someone.user.id).some((line) => line.includes('"keyId":"test1"'))).toBe(true);
    expect((await someone.browser.get(OOO)).status).toBe(200);
  });

  it('re-links the same account with a new refresh token: the unreadable one is not needed', async () => {
    const someone = retired.fresh;

    const reply = await linkGoogle(app, google, someone, { email: accounts.fresh });

    expect(linkOutcome(reply)).toMatchObject({ link: 'success' });
    expect((await rawLink(someone.user.id)).refresh_token).toMatch(/^v2:test2:/);
    expect((await someone.browser.get(OOO)).status).toBe(200);
  });

  it('re-linking the same account without a new refresh token cannot keep the unreadable one: no_offline_access, the fresh grant revoked', async () => {
    const someone = retired.same;
    const previous = await rawLink(someone.user.id);

    const reply = await linkGoogle(app, google, someone, { email: accounts.same, noRefreshToken: true });

    expect(linkOutcome(reply)).toMatchObject({ link: 'error', reason: 'no_offline_access' });
    expect(await rawLink(someone.user.id)).toEqual(previous); // nothing half-stored
    const [revoked] = google.requests('revoke');
    expect(revoked).toBeDefined();
    expect(google.isLive(revoked.form.token)).toBe(false);
    // …and the person can still disconnect and start again.
    expect((await someone.browser.delete('/api/v1/users/me/google')).status).toBe(204);
    expect(linkOutcome(await linkGoogle(app, google, someone, { email: accounts.same })).link).toBe('success');
  });

  it('drops a queued revocation whose token is damaged, naming its key id, and keeps one under a retired key for when the key is back', async () => {
    const [damaged, waiting] = await app.database.query<{ id: string }>(
      `INSERT INTO google_revocations (id, token, google_user_id, user_id, next_attempt_at)
       VALUES (gen_random_uuid(), $1, 'sub-damaged', NULL, now()), (gen_random_uuid(), $2, 'sub-waiting', NULL, now())
       RETURNING id`,
      [`v2:test2:${'A'.repeat(48)}`, `v2:test1:${'A'.repeat(48)}`],
    );
    const remaining = async () =>
      (await app.database.query<{ id: string }>('SELECT id FROM google_revocations WHERE id = ANY($1)', [[damaged.id, waiting.id]])).map((row) => row.id);

    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ((await remaining()).includes(damaged.id) || linesWith(waiting.id).length === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(await remaining()).toEqual([waiting.id]);
    expect(google.requests('revoke')).toHaveLength(0);
    expect(linesWith(damaged.id).some((line) => line.includes('"keyId":"test2"') && line.includes('dropped'))).toBe(true);
    expect(linesWith(waiting.id).some((line) => line.includes('"keyId":"test1"'))).toBe(true);
  });
});
