import { runCli } from '../support/cli';
import { FakeGoogle } from '../support/fake-google';
import { linkGoogle, person, Person } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { startTestApp, TEST_ENCRYPTION_KEY, TestApp } from '../support/test-app';

const NEW_KEY = 'test2:' + Buffer.alloc(32, 9).toString('base64');
const UNKNOWN_KEY = 'gone:' + Buffer.alloc(32, 5).toString('base64');
const OOO = '/api/v1/users/me/google/out-of-office';

const keyIdsIn = async (app: TestApp) =>
  app.database.query<{ key_id: string; count: string }>(
    `SELECT split_part(value, ':', 2) AS key_id, count(*) FROM (
       SELECT access_token AS value FROM google_oauth2_users UNION ALL SELECT refresh_token FROM google_oauth2_users
       UNION ALL SELECT code_verifier FROM oauth_states UNION ALL SELECT token FROM google_revocations) v GROUP BY 1 ORDER BY 1`,
  );

describe('keys:rotate and key ids (e2e)', () => {
  let google: FakeGoogle;
  let old: TestApp;
  const people: Person[] = [];

  beforeAll(async () => {
    google = await FakeGoogle.start();
    old = await startTestApp(google.env());
    google.redirectUri = `${old.url}/api/v1/auth/google/callback`;
    for (let index = 0; index < 4; index += 1) {
      const someone = await person(old, uniqueEmail(`rot${index}`, 'gmail.com'));
      await linkGoogle(old, google, someone);
      people.push(someone);
    }
    await old.stop();
  });
  afterAll(async () => {
    await old?.database.drop();
    await google?.stop();
  });

  it('re-encrypts every value under the new key while the service serves refreshes, losing nothing', async () => {
    const app = await startTestApp({ ...google.env(), PUBLIC_URL: old.env.PUBLIC_URL, ENCRYPTION_KEYS: `${NEW_KEY},${TEST_ENCRYPTION_KEY}` }, old.database);
    try {
      await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now()`);
      const before = await keyIdsIn(app);
      expect(before.map((row) => row.key_id)).toEqual(['test1']);

      const [rotation, ...replies] = await Promise.all([
        runCli(['keys:rotate'], {
          DATABASE_URL: app.database.url,
          ENCRYPTION_KEYS: `${NEW_KEY},${TEST_ENCRYPTION_KEY}`,
          GOOGLE_CLIENT_ID: 'x',
          GOOGLE_CLIENT_SECRET: 'y',
          DATA_DIR: app.env.DATA_DIR,
        }),
        ...people.map((someone) => app.client(someone.bearer).get(OOO)),
      ]);

      expect(rotation.code).toBe(0);
      expect(rotation.lastLine).toMatch(/^Re-encrypted \d+ value\(s\) with key test2$/);
      expect(replies.map((reply) => reply.status)).toEqual(people.map(() => 200));
      const rerun = await runCli(['keys:rotate'], {
        DATABASE_URL: app.database.url,
        ENCRYPTION_KEYS: `${NEW_KEY},${TEST_ENCRYPTION_KEY}`,
        GOOGLE_CLIENT_ID: 'x',
        GOOGLE_CLIENT_SECRET: 'y',
        DATA_DIR: app.env.DATA_DIR,
      });
      expect(rerun.lastLine).toBe('Re-encrypted 0 value(s) with key test2');
      expect((await keyIdsIn(app)).map((row) => row.key_id)).toEqual(['test2']);
    } finally {
      await app.stop();
    }
  });

  it('lets the old key be removed: everything still decrypts and works', async () => {
    const app = await startTestApp({ ...google.env(), PUBLIC_URL: old.env.PUBLIC_URL, ENCRYPTION_KEYS: NEW_KEY }, old.database);
    try {
      await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now()`);

      const replies = await Promise.all(people.map((someone) => app.client(someone.bearer).get(OOO)));

      expect(replies.map((reply) => reply.status)).toEqual(people.map(() => 200));
    } finally {
      await app.stop();
    }
  });

  it('fails a request on a value sealed with an unknown key id: 500 encryption_key_missing, the log names the key, nothing sent to Google', async () => {
    const app = await startTestApp({ ...google.env(), PUBLIC_URL: old.env.PUBLIC_URL, ENCRYPTION_KEYS: UNKNOWN_KEY }, old.database);
    try {
      google.resetRequests();
      const someone = people[0];
      await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [people[1].user.id]);

      const cached = await app.client(someone.bearer).get(OOO);
      const refreshing = await app.client(people[1].bearer).get(OOO);

      for (const reply of [cached, refreshing]) {
        expect(reply.status).toBe(500);
        expect(reply.json()).toEqual({ statusCode: 500, code: 'encryption_key_missing', message: expect.any(String) });
      }
      expect(google.requests('calendar')).toHaveLength(0);
      expect(google.requests('refresh')).toHaveLength(0);
      expect(app.logs.some((line) => line.includes('test2'))).toBe(true);
    } finally {
      await app.stop();
    }
  });

  it('keys:rotate skips and reports every value it cannot decrypt (table, column, row id, key id), and exits non-zero', async () => {
    const links = await old.database.query<{ id: string; access_token: string }>('SELECT id, access_token FROM google_oauth2_users ORDER BY id');
    // One damaged value under a key that is there: reported as damaged, the rest still rotated.
    const damaged = links[0].access_token.slice(0, -6) + 'AAAAAA';
    await old.database.query('UPDATE google_oauth2_users SET access_token = $1 WHERE id = $2', [damaged, links[0].id]);
    const env = {
      DATABASE_URL: old.database.url,
      ENCRYPTION_KEYS: `${UNKNOWN_KEY},${NEW_KEY}`,
      GOOGLE_CLIENT_ID: 'x',
      GOOGLE_CLIENT_SECRET: 'y',
      DATA_DIR: old.env.DATA_DIR,
    };

    const rotation = await runCli(['keys:rotate'], env);

    expect(rotation.code).toBe(1);
    expect(rotation.stderr).toContain(`Skipped google_oauth2_users.access_token row ${links[0].id} (key id "test2"): it is damaged`);
    expect(rotation.lastLine).toBe(`Re-encrypted ${2 * links.length - 1} value(s) with key gone`);
    expect(rotation.stdout + rotation.stderr).not.toContain(damaged);

    const withoutTest2 = await runCli(['keys:rotate'], { ...env, ENCRYPTION_KEYS: TEST_ENCRYPTION_KEY });

    expect(withoutTest2.code).toBe(1);
    for (const link of links) {
      for (const column of ['access_token', 'refresh_token']) {
        const keyId = link.id === links[0].id && column === 'access_token' ? 'test2' : 'gone';
        expect(withoutTest2.stderr).toMatch(new RegExp(`Skipped google_oauth2_users\\.${column} row ${link.id} \\(key id "${keyId}"\\): `));
      }
    }
    expect(withoutTest2.lastLine).toBe('Re-encrypted 0 value(s) with key test1');
  });
});
