import { eventually, within } from '../support/deadline';
import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, linkOutcome, person, Person, storedLink } from '../support/google-flows';
import { Reply } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

const OOO = '/api/v1/users/me/google/out-of-office';
const NO_HANG_MS = 10_000;

describe('concurrency: unlink against refresh, two unlinks, logout-all against traffic (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), GOOGLE_HTTP_TIMEOUT_MS: '2000', ADMIN_EMAILS: 'race-admin@example.com', AUTH_RATE_LIMIT: '100000' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterEach(() => {
    google.rotateRefreshTokens = false;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  const linked = async (): Promise<Person> => {
    const someone = await person(app, uniqueEmail('race', 'gmail.com'));
    const reply = await linkGoogle(app, google, someone);
    if (linkOutcome(reply).link !== 'success') throw new Error(`setup link failed: ${reply.location}`);
    return someone;
  };
  const revocationsLeft = async (userId: string) => (await app.database.query('SELECT 1 FROM google_revocations WHERE user_id = $1', [userId])).length;

  it('unlink racing refreshes: never a 5xx; afterwards the link is gone, the whole grant revoked, no revocation left', async () => {
    google.rotateRefreshTokens = true;
    const people = await Promise.all(Array.from({ length: 6 }, linked));
    const initial = await Promise.all(people.map(async (someone) => (await storedLink(app, someone.user.id))!));
    await app.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = ANY($1)`, [
      people.map((someone) => someone.user.id),
    ]);
    google.resetRequests();

    const rounds = await within(NO_HANG_MS, () =>
      Promise.all(
        people.map(async (someone, index) => {
          const api = app.client(someone.bearer);
          const read = () => api.get(OOO);
          const unlink = () => api.delete('/api/v1/users/me/google');
          // Vary who goes first: the unlinks before, among, or after the refreshing reads.
          const order = [
            [unlink, unlink, read, read, read, read, read, read],
            [read, read, unlink, read, read, unlink, read, read],
            [read, read, read, read, read, read, unlink, unlink],
          ][index % 3];
          const replies = order.map((send) => send().then((reply) => ({ reply, unlink: send === unlink })));
          const settled = await Promise.all(replies);
          return { reads: settled.filter((one) => !one.unlink).map((one) => one.reply), unlinks: settled.filter((one) => one.unlink).map((one) => one.reply) };
        }),
      ),
    );

    for (const { reads, unlinks } of rounds) {
      expect(reads.map((reply: Reply) => reply.status).filter((status) => ![200, 404, 409].includes(status))).toEqual([]);
      expect(unlinks.map((reply) => reply.status).sort()).toEqual([204, 404]);
      expect(unlinks.find((reply) => reply.status === 404)!.json().code).toBe('google_not_linked');
    }
    const tokensUsed = google.requests('calendar').map((request) => String(request.headers.authorization).replace(/^Bearer /, ''));
    for (const [index, someone] of people.entries()) {
      expect(await storedLink(app, someone.user.id)).toBeNull();
      expect((await auditActions(app, someone.user.id)).filter((event) => event.action === 'google.unlinked')).toHaveLength(1);
      expect(await eventually(async () => (await revocationsLeft(someone.user.id)) === 0)).toBe(true);
      // Revoking any token of a grant ends all of it: the first access token dies only if the grant did.
      expect(google.isLive(initial[index].accessToken)).toBe(false);
    }
    expect(tokensUsed.filter((token) => google.isLive(token))).toEqual([]);
  });

  it('a person and an admin unlinking at once: one 204, one 404, one audit event, the grant revoked once', async () => {
    const admin = await signedInUser(app.database, 'race-admin@example.com');
    const ada = await linked();
    const { refreshToken } = (await storedLink(app, ada.user.id))!;
    google.resetRequests();

    const replies = await within(NO_HANG_MS, () =>
      Promise.all([app.client(ada.bearer).delete('/api/v1/users/me/google'), app.client(admin.bearer).delete(`/api/v1/admin/users/${ada.user.id}/google`)]),
    );

    expect(replies.map((reply) => reply.status).sort()).toEqual([204, 404]);
    expect((await auditActions(app, ada.user.id)).filter((event) => event.action === 'google.unlinked')).toHaveLength(1);
    expect(google.requests('revoke').map((request) => request.form.token)).toEqual([refreshToken]);
    expect(google.isLive(refreshToken)).toBe(false);
    expect(await revocationsLeft(ada.user.id)).toBe(0);
  });

  it('logout-all racing requests on every session: never a 5xx; afterwards no session of the user works', async () => {
    const email = uniqueEmail('logout-race');
    const sessions = [await signedInUser(app.database, email), await signedInUser(app.database, email), await signedInUser(app.database, email)];
    const userId = sessions[0].user.id;
    const apis = sessions.map((session) => app.client(session.bearer));
    const traffic = (api: (typeof apis)[number]) => [
      api.get('/api/v1/users/me'),
      api.get('/api/v1/auth/google/link'),
      api.get(OOO),
      api.get('/api/v1/users/me'),
    ];

    const replies = await within(NO_HANG_MS, () =>
      Promise.all([
        ...traffic(apis[1]),
        apis[0].post('/api/v1/auth/logout-all'),
        ...traffic(apis[2]),
        apis[1].post('/api/v1/auth/logout-all'),
        ...traffic(apis[0]),
        apis[2].post('/api/v1/auth/logout'),
      ]),
    );

    expect(replies.map((reply) => reply.status).filter((status) => ![200, 204, 401, 404].includes(status))).toEqual([]);
    expect(replies.filter((reply) => reply.status === 204).length).toBeGreaterThanOrEqual(1);
    for (const api of apis) expect((await api.get('/api/v1/users/me')).status).toBe(401);
    expect(await app.database.query('SELECT 1 FROM sessions WHERE user_id = $1', [userId])).toEqual([]);
  });

  it('a link start whose session is signed out between its check and the state insert: 401 unauthenticated, no state stored', async () => {
    const someone = await person(app, uniqueEmail('gone-mid-start'));
    // The sign-out lands at the worst moment, deterministically: a trigger deletes the session in the
    // insert's own statement, so the state's foreign key finds it gone (what logout-all racing does).
    await app.database.query(`
      CREATE FUNCTION sign_out_mid_start() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN DELETE FROM sessions WHERE id = NEW.session_id; RETURN NEW; END $$`);
    await app.database.query('CREATE TRIGGER sign_out_mid_start BEFORE INSERT ON oauth_states FOR EACH ROW EXECUTE FUNCTION sign_out_mid_start()');
    try {
      const reply = await someone.browser.get('/api/v1/auth/google/link');

      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual({ statusCode: 401, code: 'unauthenticated', message: expect.any(String) });
      expect(await app.database.query('SELECT 1 FROM oauth_states WHERE user_id = $1', [someone.user.id])).toEqual([]);
    } finally {
      await app.database.query('DROP TRIGGER sign_out_mid_start ON oauth_states');
      await app.database.query('DROP FUNCTION sign_out_mid_start()');
    }
  });
});
