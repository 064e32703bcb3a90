import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { DatabaseError } from 'pg';
import { AppConfig } from '../../config/app-config';
import { KeyRing } from '../../crypto/key-ring';
import { hashSecretToken, newSecretToken } from '../secret-token';
import { OAuthState } from './oauth-state.entity';
import { NewStateRow, OAuthStateWriter } from './oauth-state.writer';
import { NewState, OAuthStateStore } from './oauth-state.store';

const TTL_SECONDS = 600;
const BROWSER = newSecretToken();
const TOKEN = newSecretToken();

const ADA = { userId: 'user-1', sessionId: 'session-1' };

/** What the consuming statement gives back for a state row: the row as it was before. */
const ROW_ID = '7d1c2f9e-0000-4000-8000-000000000001';
const row = (changes: Record<string, unknown> = {}) => ({
  id: ROW_ID,
  purpose: 'link',
  user_id: 'user-1',
  browser_hash: hashSecretToken(BROWSER),
  code_verifier: 'v2:sealed-verifier',
  nonce: 'nonce-1',
  next_path: null,
  expires_at: new Date(Date.now() + 60_000),
  used_at: null,
  ...changes,
});

describe('OAuthStateStore', () => {
  let store: OAuthStateStore;
  let query: jest.Mock<(sql: string, parameters: unknown[]) => Promise<unknown[]>>;
  let insert: jest.Mock<(row: NewStateRow) => Promise<void>>;
  let open: jest.Mock<KeyRing['open']>;

  beforeEach(async () => {
    query = jest.fn(async () => [row()]);
    insert = jest.fn(async () => undefined);
    open = jest.fn<KeyRing['open']>().mockReturnValue('plain-verifier');
    const moduleRef = await Test.createTestingModule({
      providers: [
        OAuthStateStore,
        { provide: getRepositoryToken(OAuthState), useValue: { query } },
        { provide: OAuthStateWriter, useValue: { insert } },
        { provide: KeyRing, useValue: { open } },
        { provide: AppConfig, useValue: { stateTtlSeconds: TTL_SECONDS } },
      ],
    }).compile();
    store = moduleRef.get(OAuthStateStore);
  });

  describe('consume', () => {
    it.each([
      ['absent', undefined],
      ['empty', ''],
      ['repeated (an array)', [TOKEN, TOKEN]],
    ])('rejects a state that is %s as missing, without a query', async (_, token) => {
      const check = await store.consume(token, BROWSER, 'none');

      expect(check).toEqual({ kind: 'rejected', purpose: null, problem: 'missing' });
      expect(query).not.toHaveBeenCalled();
    });

    it('rejects a state we could never have issued as unknown, without a query', async () => {
      const check = await store.consume('<script>', BROWSER, 'none');

      expect(check).toEqual({ kind: 'rejected', purpose: null, problem: 'unknown' });
      expect(query).not.toHaveBeenCalled();
    });

    it('rejects a state with no row (never issued, or purged) as unknown', async () => {
      query.mockResolvedValue([]);

      const check = await store.consume(TOKEN, BROWSER, 'none');

      expect(check).toEqual({ kind: 'rejected', purpose: null, problem: 'unknown' });
    });

    it('rejects an expired state, naming its flow', async () => {
      query.mockResolvedValue([row({ purpose: 'login', expires_at: new Date(Date.now() - 1) })]);

      const check = await store.consume(TOKEN, BROWSER, 'none');

      expect(check).toEqual({ kind: 'rejected', purpose: 'login', problem: 'expired' });
    });

    it.each([
      ['no binding cookie', undefined],
      ["another browser's binding cookie", newSecretToken()],
    ])('rejects a state presented with %s as other_browser', async (_, browserSecret) => {
      const check = await store.consume(TOKEN, browserSecret, ADA);

      expect(check).toEqual({ kind: 'rejected', purpose: 'link', problem: 'other_browser' });
      expect(open).not.toHaveBeenCalled();
    });

    it('rejects a used state, naming its flow, without decrypting anything', async () => {
      query.mockResolvedValue([row({ purpose: 'login', user_id: null, code_verifier: null, nonce: null, used_at: new Date() })]);

      const check = await store.consume(TOKEN, BROWSER, 'none');

      expect(check).toEqual({ kind: 'rejected', purpose: 'login', problem: 'used' });
      expect(open).not.toHaveBeenCalled();
    });

    it('rejects a link whose browser presents a session cookie that names no one, or several (unusable), never taking it for no session', async () => {
      const check = await store.consume(TOKEN, BROWSER, 'unusable');

      expect(check).toEqual({ kind: 'rejected', purpose: 'link', problem: 'unusable_session' });
      expect(open).not.toHaveBeenCalled();
    });

    it('rejects a link completed under another signed-in user as other_user', async () => {
      const check = await store.consume(TOKEN, BROWSER, { userId: 'mallory', sessionId: 'session-2' });

      expect(check).toEqual({ kind: 'rejected', purpose: 'link', problem: 'other_user' });
    });

    it('uses the state up with one statement by its hash (locked, marked used, secrets wiped), and hands back its flow with the decrypted verifier', async () => {
      const check = await store.consume(TOKEN, BROWSER, ADA);

      expect(check).toEqual({
        kind: 'consumed',
        state: { purpose: 'link', userId: 'user-1', codeVerifier: 'plain-verifier', nonce: 'nonce-1', nextPath: null },
      });
      expect(query).toHaveBeenCalledTimes(1);
      const [sql, parameters] = query.mock.calls[0];
      expect(sql).toMatch(/FROM oauth_states WHERE state_hash = \$1 FOR UPDATE/);
      expect(sql).toMatch(/UPDATE oauth_states SET used_at = now\(\), code_verifier = NULL, nonce = NULL/);
      expect(parameters).toEqual([hashSecretToken(TOKEN)]);
      // Opened for the row it was returned from: sealed for another state, it would not open.
      expect(open).toHaveBeenCalledWith('v2:sealed-verifier', { column: 'oauth_states.code_verifier', owner: ROW_ID });
    });

    it('accepts a link in its browser with no session (an app using Bearer tokens), and a sign-in under any session', async () => {
      const link = await store.consume(TOKEN, BROWSER, 'none');
      query.mockResolvedValue([row({ purpose: 'login', user_id: null })]);
      const signIn = await store.consume(TOKEN, BROWSER, { userId: 'someone', sessionId: 'session-3' });

      expect(link.kind).toBe('consumed');
      expect(signIn.kind).toBe('consumed');
    });
  });

  describe('create', () => {
    it('stores only hashes of the state and of the browser secret, expiring after STATE_TTL_SECONDS', async () => {
      const state: NewState = {
        purpose: 'login',
        userId: null,
        sessionId: null,
        browserSecret: BROWSER,
        codeVerifier: 'verifier',
        nonce: 'nonce-1',
        nextPath: '/next',
      };
      const before = Date.now();

      const token = await store.create(state);

      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const stored = insert.mock.calls[0][0];
      expect(stored.stateHash).toEqual(hashSecretToken(token));
      expect(stored.browserHash).toEqual(hashSecretToken(BROWSER));
      expect(stored.codeVerifier.open(stored.id)).toBe('verifier');
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(JSON.stringify(stored)).not.toContain(BROWSER);
      expect(stored.expiresAt.getTime()).toBeGreaterThanOrEqual(before + TTL_SECONDS * 1000);
      expect(stored.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + TTL_SECONDS * 1000);
    });
  });

  it('stores the session that started a link, so signing that session out deletes the flow', async () => {
    await store.create({ purpose: 'link', userId: 'user-1', sessionId: 'session-1', browserSecret: BROWSER, codeVerifier: 'v', nonce: 'n', nextPath: null });

    expect(insert.mock.calls[0][0]).toMatchObject({ userId: 'user-1', sessionId: 'session-1' });
  });

  it('refuses a link whose session was deleted while it started (logout-all racing it) as unauthenticated, not a 500', async () => {
    insert.mockRejectedValue(
      Object.assign(new DatabaseError('insert or update on table "oauth_states" violates foreign key constraint', 0, 'error'), { code: '23503' }),
    );

    const start = store.create({ purpose: 'link', userId: 'user-1', sessionId: 'gone', browserSecret: BROWSER, codeVerifier: 'v', nonce: 'n', nextPath: null });

    await expect(start).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
  });

  describe("as passport-oauth2's state store", () => {
    it('refuses to verify a request that carries no consumed state', () => {
      const done = jest.fn();

      store.verify({ query: { code: 'abc' } }, TOKEN, done);

      expect(done).toHaveBeenCalledWith(null, false, { message: 'invalid_state' });
    });

    it("verifies with the consumed state's PKCE verifier", () => {
      const done = jest.fn();
      const consumedState = { purpose: 'link' as const, userId: 'user-1', codeVerifier: 'plain-verifier', nonce: 'n', nextPath: null };

      store.verify({ query: { code: 'abc' }, body: {}, consumedState }, TOKEN, done);

      expect(done).toHaveBeenCalledWith(null, 'plain-verifier');
    });

    it('passes a failed insert on to passport', async () => {
      insert.mockRejectedValue(new Error('database unavailable'));
      const done = jest.fn();

      store.store({}, 'verifier', { purpose: 'login', userId: null, sessionId: null, browserSecret: BROWSER, nonce: 'n', nextPath: null }, {}, done);
      await new Promise(setImmediate);

      expect(done).toHaveBeenCalledWith(expect.objectContaining({ message: 'database unavailable' }));
    });

    it("creates the state with passport's PKCE verifier and hands passport the token", async () => {
      const done = jest.fn();

      store.store({}, 'passport-verifier', { purpose: 'login', userId: null, sessionId: null, browserSecret: BROWSER, nonce: 'n', nextPath: null }, {}, done);
      await new Promise(setImmediate);

      const stored = insert.mock.calls[0][0];
      expect(stored.codeVerifier.open(stored.id)).toBe('passport-verifier');
      expect(done).toHaveBeenCalledWith(null, expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
    });

    it('declares the arities passport-oauth2 dispatches on: store with the verifier (5), verify without meta (3)', () => {
      expect(store.store.length).toBe(5);
      expect(store.verify.length).toBe(3);
    });
  });
});
