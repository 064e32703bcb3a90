import { runCli } from '../support/cli';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, linkOutcome, person, Person, startLink, storedLink, testKeyRing } from '../support/google-flows';
import { sealV1 } from '../support/legacy-envelope';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TEST_ENCRYPTION_KEY, TestApp } from '../support/test-app';

const OOO = '/api/v1/users/me/google/out-of-office';
const [KEY_ID, KEY_BASE64] = TEST_ENCRYPTION_KEY.split(':');
const TEST_KEY = { id: KEY_ID, key: Buffer.from(KEY_BASE64, 'base64') };
const ACCESS = 'google_oauth2_users.access_token';
const REFRESH = 'google_oauth2_users.refresh_token';

interface RawLink {
  access_token: string;
  refresh_token: string;
}

/**
 * SPEC "Data": a value encrypted for one row does not decrypt in another. An attacker who can write
 * SQL (but holds no key) copies a victim's token ciphertext into their own row; it must not open there,
 * on data the current code wrote and on data the previous release wrote (v1 envelopes, upgraded).
 */
describe('ciphertext bound to its row (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;
  const rawLink = async (userId: string) =>
    (await app.database.query<RawLink>('SELECT access_token, refresh_token FROM google_oauth2_users WHERE user_id = $1', [userId]))[0];
  const copyTokens = (from: string, to: string) =>
    app.database.query(
      `UPDATE google_oauth2_users SET access_token = v.access_token, refresh_token = v.refresh_token
         FROM (SELECT access_token, refresh_token FROM google_oauth2_users WHERE user_id = $1) v WHERE user_id = $2`,
      [from, to],
    );
  /** The same service again, on the same port and database, so people's browsers keep working. */
  const restart = async (env: Record<string, string> = {}) => {
    await app.stop();
    app = await startTestApp({ ...google.env(), PORT: app.env.PORT, DATA_DIR: app.env.DATA_DIR, REVOCATION_RETRY_SECONDS: '1', ...env }, app.database);
  };
  const rotate = () =>
    runCli(['keys:rotate'], { DATABASE_URL: app.database.url, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEY, GOOGLE_CLIENT_ID: 'x', GOOGLE_CLIENT_SECRET: 'y' });

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), REVOCATION_RETRY_SECONDS: '1' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    // After a restart the app no longer owns its database: drop it here.
    await app?.stop();
    await app?.database.drop();
    await google?.stop();
  });

  it("refuses a victim's token ciphertext copied into another user's row: nothing reaches Google with it, the victim's grant survives", async () => {
    const victim = await person(app, uniqueEmail('victim', 'gmail.com'));
    const attacker = await person(app, uniqueEmail('attacker', 'gmail.com'));
    await linkGoogle(app, google, victim);
    await linkGoogle(app, google, attacker);
    const stolen = (await storedLink(app, victim.user.id))!;
    google.resetRequests();

    await copyTokens(victim.user.id, attacker.user.id);
    const cached = await app.client(attacker.bearer).get(OOO);
    await app.database.query('UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1', [attacker.user.id]);
    const refreshing = await app.client(attacker.bearer).get(OOO);
    const unlink = await app.client(attacker.bearer).delete('/api/v1/users/me/google');

    for (const reply of [cached, refreshing]) {
      expect(reply.status).toBe(500);
      expect(reply.body).not.toContain(stolen.accessToken);
    }
    expect(google.requests('calendar')).toHaveLength(0);
    expect(google.requests('refresh')).toHaveLength(0);
    // The attacker's unlink cannot revoke the victim's grant either: it does not decrypt there.
    expect(unlink.status).toBe(204);
    expect(google.requests('revoke')).toHaveLength(0);
    expect(google.isLive(stolen.refreshToken)).toBe(true);
    expect((await app.client(victim.bearer).get(OOO)).status).toBe(200);
  });

  describe('values the previous release wrote (v1 envelopes, bound to their column only)', () => {
    let ada: Person;
    let bob: Person;
    let carol: Person;
    let dave: Person;
    let erin: Person;
    let frank: Person;
    let daveConsentUrl: string;
    let erinRefreshToken: string;
    let adaTokens: { accessToken: string; refreshToken: string };

    /** Rewrites a column of every row of a table as the first release sealed it. */
    const downgrade = async (table: string, column: string, ownerColumn: string) => {
      const rows = await app.database.query<{ id: string; owner: string; value: string }>(
        `SELECT id, ${ownerColumn}::text AS owner, ${column} AS value FROM ${table}`,
      );
      for (const row of rows) {
        const plaintext = testKeyRing().open(row.value, { column: `${table}.${column}`, owner: row.owner });
        await app.database.query(`UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [sealV1(plaintext, TEST_KEY, `${table}.${column}`), row.id]);
      }
    };

    beforeAll(async () => {
      [ada, bob, carol, dave, erin, frank] = await Promise.all(
        ['ada', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name) => person(app, uniqueEmail(name, 'gmail.com'))),
      );
      for (const someone of [ada, bob, carol, erin, frank]) await linkGoogle(app, google, someone);
      const { accessToken, refreshToken } = (await storedLink(app, ada.user.id))!;
      adaTokens = { accessToken, refreshToken };
      erinRefreshToken = (await storedLink(app, erin.user.id))!.refreshToken;
      daveConsentUrl = await startLink(dave); // a link flow in progress across the upgrade
      await app.stop();

      // The database as the previous release left it: v1 values everywhere, no upgrade recorded.
      await app.database.query('DELETE FROM google_oauth2_users WHERE user_id = $1', [erin.user.id]);
      await app.database.query(
        `INSERT INTO google_revocations (id, token, google_user_id, user_id, next_attempt_at) VALUES (gen_random_uuid(), $1, 'erin-sub', $2, now())`,
        [sealV1(erinRefreshToken, TEST_KEY, 'google_revocations.token'), erin.user.id],
      );
      await downgrade('google_oauth2_users', 'access_token', 'user_id');
      await downgrade('google_oauth2_users', 'refresh_token', 'user_id');
      await downgrade('oauth_states', 'code_verifier', 'id');
      // A copy made before the upgrade: frank's v1 refresh token, byte for byte, in carol's row.
      await app.database.query(
        `UPDATE google_oauth2_users SET refresh_token = (SELECT refresh_token FROM google_oauth2_users WHERE user_id = $1) WHERE user_id = $2`,
        [frank.user.id, carol.user.id],
      );
      await app.database.query('DELETE FROM encryption_upgrades');

      await restart();
    });

    it('upgrades every v1 value in place at start-up: v2, under the primary key, opening only in its own row', async () => {
      const versions = await app.database.query<{ prefix: string; count: string }>(
        `SELECT split_part(v, ':', 1) || ':' || split_part(v, ':', 2) AS prefix, count(*) FROM (
           SELECT access_token AS v FROM google_oauth2_users WHERE user_id <> ALL($1)
           UNION ALL SELECT refresh_token FROM google_oauth2_users WHERE user_id <> ALL($1)
           UNION ALL SELECT code_verifier FROM oauth_states UNION ALL SELECT token FROM google_revocations) t GROUP BY 1`,
        [[carol.user.id, frank.user.id]],
      );

      expect(versions.map((row) => row.prefix)).toEqual([`v2:${KEY_ID}`]);
      expect(await storedLink(app, ada.user.id)).toMatchObject(adaTokens);
      const adaRow = await rawLink(ada.user.id);
      expect(() => testKeyRing().open(adaRow.refresh_token, { column: REFRESH, owner: bob.user.id })).toThrow();
      expect(app.logs.some((line) => /Upgraded \d+ v1 value\(s\) to v2/.test(line))).toBe(true);
    });

    it('keeps working on upgraded values: cached and refreshed access tokens, a flow begun before the upgrade, a queued revocation', async () => {
      const cached = await app.client(ada.bearer).get(OOO);
      const cachedToken = google.requests('calendar').at(-1)?.headers.authorization;
      await app.database.query('UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1', [bob.user.id]);
      const refreshed = await app.client(bob.bearer).get(OOO);
      const daveLink = await dave.browser.get(await google.consent(daveConsentUrl, { email: dave.user.email }));

      expect(cached.status).toBe(200);
      expect(cachedToken).toBe(`Bearer ${adaTokens.accessToken}`);
      expect(refreshed.status).toBe(200);
      expect(linkOutcome(daveLink).link).toBe('success');
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && google.isLive(erinRefreshToken)) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(google.isLive(erinRefreshToken)).toBe(false);
    });

    it('never upgrades a v1 value found in two rows (a copy made before the upgrade), and never uses it', async () => {
      const [carolRow, frankRow] = [await rawLink(carol.user.id), await rawLink(frank.user.id)];
      google.resetRequests();
      await app.database.query('UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1', [carol.user.id]);

      const reply = await app.client(carol.bearer).get(OOO);

      expect(carolRow.refresh_token).toMatch(/^v1:/);
      expect(frankRow.refresh_token).toBe(carolRow.refresh_token);
      expect(reply.status).toBe(500);
      expect(google.requests('refresh')).toHaveLength(0);
      expect(app.logs.some((line) => line.includes('google_oauth2_users.refresh_token (key id test1) were not upgraded'))).toBe(true);
    });

    it('refuses a v1 value planted after the upgrade: not opened, not upgraded by keys:rotate nor by a restart', async () => {
      const planted = sealV1(adaTokens.refreshToken, TEST_KEY, REFRESH);
      await app.database.query('UPDATE google_oauth2_users SET refresh_token = $1, access_token_expires_at = now() WHERE user_id = $2', [planted, bob.user.id]);
      google.resetRequests();

      const reply = await app.client(bob.bearer).get(OOO);
      const rotation = await rotate();
      await restart();

      expect(reply.status).toBe(500);
      expect(google.requests('refresh')).toHaveLength(0);
      expect(rotation.code).toBe(1);
      const [bobLink] = await app.database.query<{ id: string }>('SELECT id FROM google_oauth2_users WHERE user_id = $1', [bob.user.id]);
      expect(rotation.stderr).toContain(`Skipped ${REFRESH} row ${bobLink.id} (key id "${KEY_ID}"): a v1 value that is no longer accepted`);
      expect(rotation.stderr + rotation.stdout).not.toContain(planted);
      expect((await rawLink(bob.user.id)).refresh_token).toBe(planted);
      expect((await app.client(ada.bearer).get(OOO)).status).toBe(200);
    });

    it("refuses an upgraded value copied into another user's row", async () => {
      google.resetRequests();
      await copyTokens(ada.user.id, bob.user.id);

      const reply = await app.client(bob.bearer).get(OOO);

      expect(reply.status).toBe(500);
      expect(google.requests('calendar')).toHaveLength(0);
      const bobRow = await rawLink(bob.user.id);
      expect(() => testKeyRing().open(bobRow.access_token, { column: ACCESS, owner: bob.user.id })).toThrow();
    });
  });
});
