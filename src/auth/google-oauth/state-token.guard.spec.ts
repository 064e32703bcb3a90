import { jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../../config/app-config';
import { GoogleRejectedError } from '../../google/google-errors';
import { SessionsService } from '../sessions/sessions.service';
import type { CallbackOutcome, GoogleGrant } from './callback-outcome';
import { GoogleStrategy } from './google.strategy';
import { ConsumedState, OAuthStateStore, StateCheck } from './oauth-state.store';
import { StateTokenGuard } from './state-token.guard';

const STATE_TOKEN = 'S'.repeat(43);
const BINDING = 'B'.repeat(43);
const SESSION = 'T'.repeat(43);
const ISSUER = 'https://accounts.google.com';
const STATE: ConsumedState = { purpose: 'link', userId: 'user-1', codeVerifier: 'verifier', nonce: 'nonce-1', nextPath: null };
const GRANT: GoogleGrant = { accessToken: 'ya29.access', refreshToken: '1//refresh', expiresIn: 3599, scope: 'openid', idToken: 'id.token.jwt' };

type Callback = { query: Record<string, unknown>; headers: Record<string, string>; cookies: Record<string, string>; callbackOutcome?: CallbackOutcome };

const callback = (query: Record<string, unknown>, cookies: Record<string, string> = { g_oauth_binding: BINDING }): Callback => ({
  query: { state: STATE_TOKEN, ...query },
  headers: {},
  cookies,
});

const contextFor = (request: Callback) => ({ switchToHttp: () => ({ getRequest: () => request }) }) as unknown as ExecutionContext;

describe('StateTokenGuard', () => {
  let guard: StateTokenGuard;
  let consume: jest.Mock<OAuthStateStore['consume']>;
  let resolve: jest.Mock<SessionsService['resolve']>;
  let exchange: jest.Mock<GoogleStrategy['exchange']>;

  const outcomeOf = async (request: Callback): Promise<CallbackOutcome | undefined> => {
    const allowed = await guard.canActivate(contextFor(request));
    expect(allowed).toBe(true);
    return request.callbackOutcome;
  };

  beforeEach(async () => {
    consume = jest.fn<OAuthStateStore['consume']>().mockResolvedValue({ kind: 'consumed', state: STATE });
    resolve = jest.fn<SessionsService['resolve']>().mockResolvedValue(null);
    exchange = jest.fn<GoogleStrategy['exchange']>().mockResolvedValue(GRANT);
    const moduleRef = await Test.createTestingModule({
      providers: [
        StateTokenGuard,
        { provide: OAuthStateStore, useValue: { consume } },
        { provide: SessionsService, useValue: { resolve } },
        { provide: GoogleStrategy, useValue: { exchange } },
        { provide: AppConfig, useValue: { google: { issuers: [ISSUER, 'accounts.google.com'] } } },
      ],
    }).compile();
    guard = moduleRef.get(StateTokenGuard);
  });

  describe('an unusable state', () => {
    const rejected: StateCheck = { kind: 'rejected', purpose: null, problem: 'unknown' };

    it('is answered in the sign-in flow when the browser has no session, and never reaches Google', async () => {
      consume.mockResolvedValue(rejected);

      const outcome = await outcomeOf(callback({ code: 'abc' }));

      expect(outcome).toEqual({ kind: 'invalid_state', flow: 'login', problem: 'unknown' });
      expect(exchange).not.toHaveBeenCalled();
    });

    it('is answered in the link flow when the browser holds a valid session', async () => {
      consume.mockResolvedValue(rejected);
      resolve.mockResolvedValue({ userId: 'user-1', email: 'ada@example.com', role: 'user', sessionId: 's', via: 'cookie' });

      const outcome = await outcomeOf(callback({ code: 'abc' }, { g_oauth_binding: BINDING, sid: SESSION }));

      expect(outcome).toMatchObject({ kind: 'invalid_state', flow: 'link' });
    });

    it('is answered in the flow it names, whatever the session', async () => {
      consume.mockResolvedValue({ kind: 'rejected', purpose: 'login', problem: 'other_browser' });
      resolve.mockResolvedValue({ userId: 'user-1', email: 'ada@example.com', role: 'user', sessionId: 's', via: 'cookie' });

      const outcome = await outcomeOf(callback({ code: 'abc' }, { sid: SESSION }));

      expect(outcome).toEqual({ kind: 'invalid_state', flow: 'login', problem: 'other_browser' });
    });
  });

  it('refuses an answer naming another issuer (RFC 9207 mix-up) without exchanging its code, the state consumed', async () => {
    const outcome = await outcomeOf(callback({ code: 'abc', iss: 'https://attacker.example' }));

    expect(outcome).toMatchObject({ kind: 'google_failed', state: STATE });
    expect(consume).toHaveBeenCalledTimes(1);
    expect(exchange).not.toHaveBeenCalled();
  });

  it('turns error=access_denied into a denial, the state consumed', async () => {
    const outcome = await outcomeOf(callback({ error: 'access_denied' }));

    expect(outcome).toEqual({ kind: 'denied', state: STATE });
    expect(consume).toHaveBeenCalledTimes(1);
    expect(exchange).not.toHaveBeenCalled();
  });

  it.each([
    ['any other error from Google', { error: 'server_error', code: 'abc' }],
    ['neither a code nor an error', {}],
    ['a repeated code', { code: ['abc', 'def'] }],
  ])('turns %s into a Google failure, without an exchange', async (_, query) => {
    const outcome = await outcomeOf(callback(query));

    expect(outcome).toMatchObject({ kind: 'google_failed', state: STATE });
    expect(exchange).not.toHaveBeenCalled();
  });

  it('turns a failed code exchange into a Google failure carrying its cause', async () => {
    const refused = new GoogleRejectedError('token', 400, 'invalid_grant');
    exchange.mockRejectedValue(refused);

    const outcome = await outcomeOf(callback({ code: 'abc', iss: ISSUER }));

    expect(outcome).toEqual({ kind: 'google_failed', state: STATE, error: refused });
  });

  it("consumes the state once, against the binding cookie and the session's user, and exchanges the code with that state", async () => {
    resolve.mockResolvedValue({ userId: 'user-1', email: 'ada@example.com', role: 'user', sessionId: 's', via: 'cookie' });

    const outcome = await outcomeOf(callback({ code: 'abc', iss: ISSUER }, { g_oauth_binding: BINDING, sid: SESSION }));

    expect(outcome).toEqual({ kind: 'granted', state: STATE, grant: GRANT });
    expect(resolve).toHaveBeenCalledWith(SESSION, 'cookie');
    expect(consume).toHaveBeenCalledTimes(1);
    expect(consume).toHaveBeenCalledWith(STATE_TOKEN, BINDING, 'user-1');
    expect(exchange).toHaveBeenCalledWith('abc', STATE);
  });

  it('counts a malformed Authorization header as no session, and accepts a callback without iss', async () => {
    const request = callback({ code: 'abc' });
    request.headers.authorization = 'Basic x';

    const outcome = await outcomeOf(request);

    expect(outcome?.kind).toBe('granted');
    expect(resolve).not.toHaveBeenCalled();
    expect(consume).toHaveBeenCalledWith(STATE_TOKEN, BINDING, null);
  });
});
