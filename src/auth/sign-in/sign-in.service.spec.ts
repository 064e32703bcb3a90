import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DomainError } from '../../common/domain-error';
import { AppConfig } from '../../config/app-config';
import { GoogleUnavailableError, InvalidIdTokenError } from '../../google/google-errors';
import { GoogleIdentity, GoogleIdTokenVerifier } from '../../google/google-id-token.verifier';
import { MetricsService } from '../../metrics/metrics.service';
import { User } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import type { ConsumedOutcome, GoogleGrant } from '../google-oauth/callback-outcome';
import type { ConsumedState } from '../google-oauth/oauth-state.store';
import { SessionsService } from '../sessions/sessions.service';
import { SignInRefusedError } from './sign-in-refused.error';
import { SignInService } from './sign-in.service';

const STATE: ConsumedState = { purpose: 'login', userId: null, codeVerifier: 'verifier', nonce: 'nonce-1', nextPath: '/calendar?week=2' };
const IDENTITY: GoogleIdentity = { sub: 'google-sub-1', email: 'ada@example.com', emailVerified: true, name: 'Ada', hd: null };
const ADA = { id: 'user-1', email: 'ada@example.com', googleSub: 'google-sub-1' } as User;
const SESSION = { token: 'session-token', expiresIn: 86400 };

const granted = (grant: Partial<GoogleGrant> = {}): ConsumedOutcome => ({
  kind: 'granted',
  state: STATE,
  grant: { accessToken: 'ya29.access', refreshToken: undefined, expiresIn: 3599, scope: 'openid email profile', idToken: 'id.token.jwt', ...grant },
});

describe('SignInService', () => {
  let service: SignInService;
  let verify: jest.Mock<GoogleIdTokenVerifier['verify']>;
  let users: {
    findByGoogleSub: jest.Mock<UsersService['findByGoogleSub']>;
    findByEmail: jest.Mock<UsersService['findByEmail']>;
    setGoogleSub: jest.Mock<UsersService['setGoogleSub']>;
    createOrPromote: jest.Mock<UsersService['createOrPromote']>;
  };
  let createSession: jest.Mock<SessionsService['create']>;
  let loginOutcome: jest.Mock<MetricsService['loginOutcome']>;
  let google: { allowedDomains: string[]; autoCreateUsers: boolean; audiences: string[] };
  let logError: jest.SpiedFunction<Logger['error']>;

  beforeEach(async () => {
    verify = jest.fn<GoogleIdTokenVerifier['verify']>().mockResolvedValue(IDENTITY);
    users = {
      findByGoogleSub: jest.fn<UsersService['findByGoogleSub']>().mockResolvedValue(null),
      findByEmail: jest.fn<UsersService['findByEmail']>().mockResolvedValue(null),
      setGoogleSub: jest.fn<UsersService['setGoogleSub']>().mockResolvedValue(undefined),
      createOrPromote: jest.fn<UsersService['createOrPromote']>().mockResolvedValue({ user: ADA, created: true }),
    };
    createSession = jest.fn<SessionsService['create']>().mockResolvedValue(SESSION);
    loginOutcome = jest.fn<MetricsService['loginOutcome']>();
    google = { allowedDomains: [], autoCreateUsers: true, audiences: ['web-client', 'android-client'] };
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [
        SignInService,
        { provide: GoogleIdTokenVerifier, useValue: { verify } },
        { provide: UsersService, useValue: users },
        { provide: SessionsService, useValue: { create: createSession } },
        { provide: MetricsService, useValue: { loginOutcome } },
        { provide: AppConfig, useValue: { google } },
      ],
    }).compile();
    service = moduleRef.get(SignInService);
  });
  afterEach(() => jest.restoreAllMocks());

  describe('completeCallback', () => {
    it('answers a cancelled sign-in with access_denied and a failed exchange with google_error, checking no identity', async () => {
      const denied = await service.completeCallback({ kind: 'denied', state: STATE });
      const failed = await service.completeCallback({ kind: 'google_failed', state: STATE, error: new Error('timeout') });

      expect(denied).toEqual({ flow: 'login', reason: 'access_denied' });
      expect(failed).toEqual({ flow: 'login', reason: 'google_error' });
      expect(verify).not.toHaveBeenCalled();
    });

    it('answers a grant without an ID token with invalid_id_token', async () => {
      const answer = await service.completeCallback(granted({ idToken: undefined }));

      expect(answer).toEqual({ flow: 'login', reason: 'invalid_id_token' });
      expect(createSession).not.toHaveBeenCalled();
    });

    it("answers an ID token that fails verification with invalid_id_token, checking it against the state's nonce", async () => {
      verify.mockRejectedValue(new InvalidIdTokenError('nonce mismatch'));

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('invalid_id_token');
      expect(verify).toHaveBeenCalledWith('id.token.jwt', { nonce: STATE.nonce });
    });

    it('answers an unreachable key set with google_error, without calling it unexpected', async () => {
      verify.mockRejectedValue(new GoogleUnavailableError('jwks', 'timeout'));

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('google_error');
      expect(logError).not.toHaveBeenCalled();
    });

    it('refuses an unverified email before looking anyone up: email_not_verified', async () => {
      verify.mockResolvedValue({ ...IDENTITY, emailVerified: false });

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('email_not_verified');
      expect(users.findByGoogleSub).not.toHaveBeenCalled();
      expect(createSession).not.toHaveBeenCalled();
    });

    it.each([
      ['an email domain not in the list', { email: 'ada@evilexample.com', hd: null }],
      ['an hd claim not in the list', { email: 'ada@example.com', hd: 'other.example' }],
    ])('refuses %s: domain_not_allowed', async (_, claims) => {
      google.allowedDomains = ['example.com'];
      verify.mockResolvedValue({ ...IDENTITY, ...claims });

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('domain_not_allowed');
      expect(createSession).not.toHaveBeenCalled();
    });

    it('refuses an unknown person when sign-ups are off: signup_disabled, no user created', async () => {
      google.autoCreateUsers = false;

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('signup_disabled');
      expect(users.createOrPromote).not.toHaveBeenCalled();
    });

    it('answers an unexpected failure (the session not stored) with google_error, and logs it', async () => {
      createSession.mockRejectedValue(new Error('Connection terminated'));

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('google_error');
      expect(logError).toHaveBeenCalledWith(expect.anything(), 'Sign-in failed unexpectedly');
    });

    it("signs the user with that Google sub in, landing on the state's next path", async () => {
      users.findByGoogleSub.mockResolvedValue(ADA);

      const answer = await service.completeCallback(granted());

      expect(answer).toEqual({ flow: 'login', reason: 'success', session: SESSION, nextPath: STATE.nextPath });
      expect(createSession).toHaveBeenCalledWith(ADA.id);
      expect(users.findByEmail).not.toHaveBeenCalled();
    });

    it('signs the user with that verified email in and records their Google sub', async () => {
      users.findByEmail.mockResolvedValue({ ...ADA, googleSub: null });

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('success');
      expect(users.setGoogleSub).toHaveBeenCalledWith(ADA.id, IDENTITY.sub);
      expect(users.createOrPromote).not.toHaveBeenCalled();
    });

    it('creates an unknown, allowed person as a new user', async () => {
      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('success');
      expect(users.createOrPromote).toHaveBeenCalledWith({ email: IDENTITY.email, name: IDENTITY.name, googleSub: IDENTITY.sub });
      expect(createSession).toHaveBeenCalledWith(ADA.id);
    });
  });

  describe('exchangeIdToken', () => {
    it('refuses an invalid ID token with 401 invalid_id_token, counting it', async () => {
      verify.mockRejectedValue(new InvalidIdTokenError('bad signature'));

      const exchange = service.exchangeIdToken('id.token.jwt');

      await expect(exchange).rejects.toMatchObject({ code: 'invalid_id_token', status: 401 });
      expect(loginOutcome).toHaveBeenCalledWith('invalid_id_token');
    });

    it('answers an unreachable key set with 502 google_unavailable', async () => {
      verify.mockRejectedValue(new GoogleUnavailableError('jwks', 'timeout'));

      const exchange = service.exchangeIdToken('id.token.jwt');

      await expect(exchange).rejects.toMatchObject({ code: 'google_unavailable', status: 502 });
      expect(loginOutcome).toHaveBeenCalledWith('google_error');
    });

    it('refuses with the sign-in rules, as the callback does (403)', async () => {
      verify.mockResolvedValue({ ...IDENTITY, emailVerified: false });

      const exchange = service.exchangeIdToken('id.token.jwt');

      await expect(exchange).rejects.toBeInstanceOf(SignInRefusedError);
      await expect(exchange).rejects.toMatchObject({ code: 'email_not_verified', status: 403 });
      expect(loginOutcome).toHaveBeenCalledWith('email_not_verified');
    });

    it('passes an unexpected failure on as it is', async () => {
      const failure = new Error('Connection terminated');
      createSession.mockRejectedValue(failure);

      const exchange = service.exchangeIdToken('id.token.jwt');

      await expect(exchange).rejects.toBe(failure);
      await expect(exchange).rejects.not.toBeInstanceOf(DomainError);
    });

    it('turns a valid ID token for any configured audience into a session', async () => {
      const session = await service.exchangeIdToken('id.token.jwt');

      expect(session).toEqual(SESSION);
      expect(verify).toHaveBeenCalledWith('id.token.jwt', { audiences: google.audiences });
      expect(loginOutcome).toHaveBeenCalledWith('success');
    });
  });
});
