import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PROFILE_COLUMNS } from '../../src/users/user-profiles.service';
import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, person, Person, startLink, storedLink } from '../support/google-flows';
import { startTestApp, TestApp } from '../support/test-app';

const RISC_ISSUER = 'https://accounts.google.com/';
const SCHEMAS = 'https://schemas.openid.net/secevent/';
const EVENT = {
  sessionsRevoked: `${SCHEMAS}risc/event-type/sessions-revoked`,
  tokensRevoked: `${SCHEMAS}oauth/event-type/tokens-revoked`,
  accountDisabled: `${SCHEMAS}risc/event-type/account-disabled`,
  accountEnabled: `${SCHEMAS}risc/event-type/account-enabled`,
  credentialChangeRequired: `${SCHEMAS}risc/event-type/account-credential-change-required`,
  verification: `${SCHEMAS}risc/event-type/verification`,
};

describe('Cross-Account Protection receiver (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  const subject = (sub: string) => ({ subject_type: 'iss-sub', iss: RISC_ISSUER, sub });
  /** A SET as Google's Cross-Account Protection signs it; `claims` override (undefined removes). */
  const set = (events: Record<string, unknown>, claims: Record<string, unknown> = {}, options: Parameters<FakeGoogle['signIdToken']>[1] = {}) =>
    google.signIdToken(
      {
        iss: RISC_ISSUER,
        aud: google.clientId,
        jti: randomUUID(),
        iat: Math.floor(Date.now() / 1000),
        events,
        email: undefined,
        email_verified: undefined,
        azp: undefined,
        exp: undefined,
        sub: undefined,
        ...claims,
      },
      options,
    );
  const deliver = (token: string, target = app, contentType = 'application/secevent+jwt') =>
    target.client().request('POST', '/api/v1/google/risc', { rawBody: token, headers: { 'content-type': contentType } });
  const sessionCount = async (userId: string) =>
    Number((await app.database.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [userId]))[0].n);
  const sessionWorks = async (someone: Person) => (await app.client().get('/api/v1/users/me', someone.bearer)).status === 200;
  const linkedPerson = async () => {
    const someone = await person(app);
    const reply = await linkGoogle(app, google, someone);
    if (!reply.location?.includes('google_link=success')) throw new Error(`link failed: ${reply.location}`);
    const link = await storedLink(app, someone.user.id);
    return { someone, sub: link!.google_user_id };
  };
  const riscAudit = async (userId: string) =>
    (await auditActions(app, userId)).filter((event) => event.action.startsWith('google.') && !['google.linked'].includes(event.action));
  const tokenExchange = async (sub: string, email: string) =>
    app.client().post('/api/v1/auth/google/token', { idToken: await google.signIdToken({ sub, email }) });

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({
      ...google.env(),
      GOOGLE_RISC_JWKS_URL: `${google.url}/oauth2/v3/certs`,
      GOOGLE_ADDITIONAL_CLIENT_IDS: 'ios-client.apps.googleusercontent.com',
      LOG_LEVEL: 'info',
    });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  describe('each event type', () => {
    it('sessions-revoked ends every session of the user, audited with the sub; the link stays', async () => {
      const { someone, sub } = await linkedPerson();

      const reply = await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));

      expect(reply.status).toBe(202);
      expect(reply.body).toBe('');
      await expect(sessionCount(someone.user.id)).resolves.toBe(0);
      await expect(sessionWorks(someone)).resolves.toBe(false);
      expect((await storedLink(app, someone.user.id))?.status).toBe('active');
      await expect(riscAudit(someone.user.id)).resolves.toEqual([{ action: 'google.sessions_revoked', actor_id: null, google_user_id: sub }]);
    });

    it('tokens-revoked ends the sessions, makes the link needs_reauth and erases its tokens', async () => {
      const { someone, sub } = await linkedPerson();

      const reply = await deliver(await set({ [EVENT.tokensRevoked]: { subject: subject(sub) } }));

      expect(reply.status).toBe(202);
      await expect(sessionCount(someone.user.id)).resolves.toBe(0);
      const [row] = await app.database.query<{ status: string; access_token: string | null; refresh_token: string | null }>(
        'SELECT status, access_token, refresh_token FROM google_oauth2_users WHERE user_id = $1',
        [someone.user.id],
      );
      expect(row).toEqual({ status: 'needs_reauth', access_token: null, refresh_token: null });
      await expect(riscAudit(someone.user.id)).resolves.toEqual([{ action: 'google.tokens_revoked', actor_id: null, google_user_id: sub }]);
    });

    it('a link without tokens can still be disconnected (204) and reconnected', async () => {
      const { someone, sub } = await linkedPerson();
      await deliver(await set({ [EVENT.tokensRevoked]: { subject: subject(sub) } }));
      const again = await person(app, someone.user.email);

      expect((await again.browser.delete('/api/v1/users/me/google')).status).toBe(204);
      expect((await linkGoogle(app, google, again)).location).toContain('google_link=success');
      expect((await storedLink(app, someone.user.id))?.status).toBe('active');
    });

    it('account-disabled ends the sessions, makes the link needs_reauth and refuses sign-in and the token exchange until account-enabled', async () => {
      const { someone, sub } = await linkedPerson();
      await app.database.query('UPDATE users SET google_sub = $1 WHERE id = $2', [sub, someone.user.id]);

      expect((await deliver(await set({ [EVENT.accountDisabled]: { subject: subject(sub), reason: 'hijacking' } }))).status).toBe(202);

      await expect(sessionCount(someone.user.id)).resolves.toBe(0);
      expect((await storedLink(app, someone.user.id))?.status).toBe('needs_reauth');
      const refused = await tokenExchange(sub, someone.user.email);
      expect(refused.status).toBe(403);
      expect(refused.json()).toMatchObject({ statusCode: 403, code: 'google_account_disabled' });
      await expect(sessionCount(someone.user.id)).resolves.toBe(0);

      expect((await deliver(await set({ [EVENT.accountEnabled]: { subject: subject(sub) } }))).status).toBe(202);

      expect((await tokenExchange(sub, someone.user.email)).status).toBe(200);
      await expect(riscAudit(someone.user.id)).resolves.toEqual([
        { action: 'google.account_disabled', actor_id: null, google_user_id: sub },
        { action: 'google.account_enabled', actor_id: null, google_user_id: sub },
      ]);
    });

    it('account-disabled refuses the browser sign-in with reason google_account_disabled', async () => {
      const { someone, sub } = await linkedPerson();
      await app.database.query('UPDATE users SET google_sub = $1 WHERE id = $2', [sub, someone.user.id]);
      await deliver(await set({ [EVENT.accountDisabled]: { subject: subject(sub) } }));

      const browser = app.client();
      const start = await browser.get('/api/v1/auth/google');
      const reply = await browser.get(await google.consent(start.location!, { email: someone.user.email }));

      expect(reply.status).toBe(302);
      expect(reply.location).toContain('google_login=error&reason=google_account_disabled');
      expect(reply.headers.getSetCookie().some((cookie) => cookie.startsWith('sid='))).toBe(false);
    });

    it('credential-change-required is recorded; nothing else changes', async () => {
      const { someone, sub } = await linkedPerson();

      expect((await deliver(await set({ [EVENT.credentialChangeRequired]: { subject: subject(sub) } }))).status).toBe(202);

      await expect(sessionWorks(someone)).resolves.toBe(true);
      expect((await storedLink(app, someone.user.id))?.status).toBe('active');
      await expect(riscAudit(someone.user.id)).resolves.toEqual([{ action: 'google.credential_change_required', actor_id: null, google_user_id: sub }]);
    });

    it('verification is acknowledged, logged with its state, and audits nothing', async () => {
      const state = `state-${randomUUID()}`;
      const before = Number((await app.database.query<{ n: string }>('SELECT count(*) AS n FROM audit_events'))[0].n);

      expect((await deliver(await set({ [EVENT.verification]: { state } }))).status).toBe(202);

      const after = Number((await app.database.query<{ n: string }>('SELECT count(*) AS n FROM audit_events'))[0].n);
      expect(after).toBe(before);
      expect(app.logs.join('\n')).toContain(state);
    });

    it('an unknown subject is acknowledged and ignored', async () => {
      const reply = await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject('999999999999999999999') } }));

      expect(reply.status).toBe(202);
    });

    it('an audience among GOOGLE_ADDITIONAL_CLIENT_IDS is accepted', async () => {
      const { someone, sub } = await linkedPerson();

      expect((await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }, { aud: 'ios-client.apps.googleusercontent.com' }))).status).toBe(
        202,
      );
      await expect(sessionCount(someone.user.id)).resolves.toBe(0);
    });
  });

  describe('telling the signed-out person why', () => {
    const me = (someone: Person) => someone.browser.get('/api/v1/users/me');
    const revokedRows = (userId: string) =>
      app.database.query<{ token_hash: Buffer; reason: string }>('SELECT token_hash, reason FROM revoked_sessions WHERE user_id = $1', [userId]);

    it('sessions-revoked: the old cookie gets 401 unauthenticated with reason google_sessions_revoked, in words, never the event URI', async () => {
      const { someone, sub } = await linkedPerson();

      await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));

      const reply = await me(someone);
      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual({
        statusCode: 401,
        code: 'unauthenticated',
        reason: 'google_sessions_revoked',
        message: expect.stringContaining('sign in again'),
      });
      expect(reply.json<{ message: string }>().message).toContain("Google told us your account's sessions were ended");
      expect(reply.body).not.toContain('schemas.openid.net');
      expect(reply.body).not.toContain(sub);
      // The same token as a Bearer header is the same holder: told the same.
      expect((await app.client().get('/api/v1/users/me', someone.bearer)).json()).toMatchObject({ reason: 'google_sessions_revoked' });
      // Only the token's hash is kept, never the token.
      const rows = await revokedRows(someone.user.id);
      expect(rows).toEqual([{ token_hash: createHash('sha256').update(someone.token).digest(), reason: 'google_sessions_revoked' }]);
      expect(JSON.stringify(await app.database.query('SELECT * FROM revoked_sessions'))).not.toContain(someone.token);
    });

    it('nobody without that session token learns anything: another token, no token, a malformed one get the plain 401', async () => {
      const { someone, sub } = await linkedPerson();
      await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));
      const plain = { statusCode: 401, code: 'unauthenticated', message: expect.any(String) };

      const stranger = app.client();
      stranger.cookies.set('sid', randomBytes(32).toString('base64url'));
      for (const reply of [
        await stranger.get('/api/v1/users/me'),
        await app.client().get('/api/v1/users/me'),
        await app.client().get('/api/v1/users/me', { authorization: `Bearer ${someone.token}x` }),
        await app.client().get('/api/v1/users/me', { authorization: `Bearer ${createHash('sha256').update(someone.token).digest('base64url')}` }),
      ]) {
        expect(reply.status).toBe(401);
        expect(reply.json()).toEqual(plain);
      }
    });

    it('tokens-revoked: reason google_tokens_revoked; a later sign-in sees the reconnect notice', async () => {
      const { someone, sub } = await linkedPerson();

      await deliver(await set({ [EVENT.tokensRevoked]: { subject: subject(sub) } }));

      expect((await me(someone)).json()).toMatchObject({ statusCode: 401, code: 'unauthenticated', reason: 'google_tokens_revoked' });
      const again = await person(app, someone.user.email);
      expect((await me(again)).json()).toMatchObject({ notice: expect.stringContaining('reconnect your Google account') });
    });

    it('account-disabled: reason google_account_disabled while Google says so; after account-enabled it says only that the sessions ended', async () => {
      const { someone, sub } = await linkedPerson();
      await app.database.query('UPDATE users SET google_sub = $1 WHERE id = $2', [sub, someone.user.id]);

      await deliver(await set({ [EVENT.accountDisabled]: { subject: subject(sub), reason: 'hijacking' } }));

      const disabled = await me(someone);
      expect(disabled.json()).toMatchObject({ statusCode: 401, code: 'unauthenticated', reason: 'google_account_disabled' });
      expect(disabled.json<{ message: string }>().message).toContain('refused until Google enables it again');
      expect(disabled.body).not.toContain('hijacking');

      await deliver(await set({ [EVENT.accountEnabled]: { subject: subject(sub) } }));

      expect((await me(someone)).json()).toMatchObject({ reason: 'google_sessions_revoked' });
    });

    it('a link flow the ended session had started is gone with it', async () => {
      const { someone, sub } = await linkedPerson();
      const consentUrl = await startLink(someone);

      await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));

      const callback = await someone.browser.get(await google.consent(consentUrl, { email: someone.user.email }));
      // Its state is gone, so the callback cannot even tell it was a link: an unknown state.
      expect(callback.location).toContain('error&reason=invalid_state');
      expect(callback.location).not.toContain('google_link=success');
      const pending = await app.database.query('SELECT 1 FROM oauth_states WHERE user_id = $1 AND purpose = $2', [someone.user.id, 'link']);
      expect(pending).toEqual([]);
    });

    it('a plain logout leaves no reason behind; a revocation past its session’s expiry says nothing', async () => {
      const signedOut = await person(app);
      expect((await signedOut.browser.post('/api/v1/auth/logout')).status).toBe(204);
      expect((await me(signedOut)).json()).toEqual({ statusCode: 401, code: 'unauthenticated', message: expect.any(String) });

      const { someone, sub } = await linkedPerson();
      await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));
      await app.database.query(`UPDATE revoked_sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [someone.user.id]);

      expect((await me(someone)).json()).toEqual({ statusCode: 401, code: 'unauthenticated', message: expect.any(String) });
    });

    it('signing in again in that browser replaces the cookie: the new session works and says nothing of the old', async () => {
      const { someone, sub } = await linkedPerson();
      await deliver(await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } }));

      const start = await someone.browser.get('/api/v1/auth/google');
      const reply = await someone.browser.get(await google.consent(start.location!, { email: someone.user.email, sub }));

      expect(reply.location).not.toContain('google_login=error');
      const fresh = await me(someone);
      expect(fresh.status).toBe(200);
      expect(fresh.json()).not.toHaveProperty('reason');
    });
  });

  it('users/me reads its notice by the partial index, however long the user’s history', async () => {
    const { someone } = await linkedPerson();
    await app.database.query(
      `INSERT INTO audit_events (action, user_id, created_at) SELECT 'session.created', $1, now() - g * interval '1 second' FROM generate_series(1, 5000) g`,
      [someone.user.id],
    );
    await app.database.query('ANALYZE audit_events');

    const [{ 'QUERY PLAN': plan }] = await app.database.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) SELECT ${PROFILE_COLUMNS} FROM users u LEFT JOIN google_oauth2_users l ON l.user_id = u.id WHERE u.id = '${someone.user.id}'`,
    );

    expect(JSON.stringify(plan)).toContain('"Index Name":"audit_events_google_notice_idx"');
    expect((await someone.browser.get('/api/v1/users/me')).json()).toMatchObject({ notice: null });
  });

  describe('replays', () => {
    it('a jti seen before is acknowledged (202) and not applied again', async () => {
      const { someone, sub } = await linkedPerson();
      const token = await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } });
      expect((await deliver(token)).status).toBe(202);
      const fresh = await person(app, someone.user.email);

      expect((await deliver(token)).status).toBe(202);

      await expect(sessionWorks(fresh)).resolves.toBe(true);
      await expect(riscAudit(someone.user.id)).resolves.toHaveLength(1);
    });

    it('two instances receiving the same SET at once apply it once', async () => {
      const { PORT: _port, ...env } = app.env;
      const second = await startTestApp(env, app.database);
      try {
        const { someone, sub } = await linkedPerson();
        const token = await set({ [EVENT.sessionsRevoked]: { subject: subject(sub) } });

        const replies = await Promise.all([deliver(token), deliver(token, second), deliver(token), deliver(token, second)]);

        expect(replies.map((reply) => reply.status)).toEqual([202, 202, 202, 202]);
        await expect(riscAudit(someone.user.id)).resolves.toHaveLength(1);
      } finally {
        await second.close();
      }
    });
  });

  describe('refusals apply nothing', () => {
    let victim: Awaited<ReturnType<typeof linkedPerson>>;
    const events = () => ({ [EVENT.tokensRevoked]: { subject: subject(victim.sub) } });
    const expectNothingApplied = async () => {
      await expect(sessionWorks(victim.someone)).resolves.toBe(true);
      expect((await storedLink(app, victim.someone.user.id))?.status).toBe('active');
      await expect(riscAudit(victim.someone.user.id)).resolves.toEqual([]);
    };
    const expectRefused = async (reply: Awaited<ReturnType<typeof deliver>>, err: string) => {
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toContain('application/json');
      expect(reply.json()).toEqual({ err, description: expect.any(String) });
      await expectNothingApplied();
    };

    beforeAll(async () => {
      victim = await linkedPerson();
    });

    it('a bad signature: invalid_key', async () => {
      const token = await set(events());
      const [header, claims, signature] = token.split('.');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      await expectRefused(await deliver(`${header}.${claims}.${flipped}`), 'invalid_key');
    });

    it('a key not in the JWKS (naming its kid): invalid_key', async () => {
      await expectRefused(await deliver(await set(events(), {}, { foreignKey: true })), 'invalid_key');
    });

    it('a foreign key id: invalid_key', async () => {
      await expectRefused(await deliver(await set(events(), {}, { kid: 'someone-elses-key' })), 'invalid_key');
    });

    it('alg none: invalid_key', async () => {
      await expectRefused(await deliver(await set(events(), {}, { alg: 'none' })), 'invalid_key');
    });

    it('HS256 keyed by the public key (algorithm confusion): invalid_key', async () => {
      await expectRefused(await deliver(await set(events(), {}, { alg: 'HS256' })), 'invalid_key');
    });

    it('the wrong issuer (the ID tokens’ issuer is not the RISC one): invalid_issuer', async () => {
      await expectRefused(await deliver(await set(events(), { iss: google.issuer })), 'invalid_issuer');
    });

    it('the wrong audience: invalid_audience', async () => {
      await expectRefused(await deliver(await set(events(), { aud: 'another-app.apps.googleusercontent.com' })), 'invalid_audience');
    });

    it('iat in the future: invalid_request', async () => {
      await expectRefused(await deliver(await set(events(), { iat: Math.floor(Date.now() / 1000) + 3600 })), 'invalid_request');
    });

    it('no iat, no jti, or no events: invalid_request', async () => {
      await expectRefused(await deliver(await set(events(), { iat: undefined })), 'invalid_request');
      await expectRefused(await deliver(await set(events(), { jti: undefined })), 'invalid_request');
      await expectRefused(await deliver(await set({})), 'invalid_request');
      await expectRefused(await deliver(await set(events(), { events: 'sessions-revoked' })), 'invalid_request');
    });

    it('a malformed body: invalid_request', async () => {
      await expectRefused(await deliver('not-a-jwt'), 'invalid_request');
      await expectRefused(await deliver(''), 'invalid_request');
    });

    it('the wrong content type: invalid_request', async () => {
      const token = await set(events());
      await expectRefused(await deliver(token, app, 'text/plain'), 'invalid_request');
      await expectRefused(await deliver(JSON.stringify({ set: token }), app, 'application/json'), 'invalid_request');
    });
  });
});
