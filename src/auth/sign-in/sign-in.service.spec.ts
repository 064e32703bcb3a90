import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DomainError } from '../../common/domain-error';
import { GoogleAccountBlocksService } from '../../risc/google-account-blocks.service';
import { AppConfig } from '../../config/app-config';
import { GoogleUnavailableError, InvalidIdTokenError } from '../../google/google-errors';
import { GoogleIdentity, GoogleIdTokenVerifier } from '../../google/google-id-token.verifier';
import { MetricsService } from '../../metrics/metrics.service';
import { AuditService } from '../../users/audit.service';
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

const granted = (grant: Partial<GoogleGrant> = {}, browserSessionId: string | null = null): ConsumedOutcome => ({
  kind: 'granted',
  state: STATE,
  grant: { accessToken: 'ya29.access', refreshToken: undefined, expiresIn: 3599, scope: 'openid email profile', idToken: 'id.token.jwt', ...grant },
  browserSessionId,
});

describe('SignInService', () => {
  let service: SignInService;
  let verify: jest.Mock<GoogleIdTokenVerifier['verify']>;
  let users: {
    findByGoogleSub: jest.Mock<UsersService['findByGoogleSub']>;
    findByEmail: jest.Mock<UsersService['findByEmail']>;
    bindGoogleSub: jest.Mock<UsersService['bindGoogleSub']>;
    createOrPromote: jest.Mock<UsersService['createOrPromote']>;
  };
  let createSession: jest.Mock<SessionsService['create']>;
  let replaceSession: jest.Mock<SessionsService['replace']>;
  let record: jest.Mock<AuditService['record']>;
  let loginOutcome: jest.Mock<MetricsService['loginOutcome']>;
  let google: { allowedDomains: string[]; autoCreateUsers: boolean; audiences: string[] };
  let logError: jest.SpiedFunction<Logger['error']>;

  beforeEach(async () => {
    verify = jest.fn<GoogleIdTokenVerifier['verify']>().mockResolvedValue(IDENTITY);
    users = {
      findByGoogleSub: jest.fn<UsersService['findByGoogleSub']>().mockResolvedValue(null),
      findByEmail: jest.fn<UsersService['findByEmail']>().mockResolvedValue(null),
      bindGoogleSub: jest.fn<UsersService['bindGoogleSub']>().mockResolvedValue(true),
      createOrPromote: jest.fn<UsersService['createOrPromote']>().mockResolvedValue({ user: ADA, created: true }),
    };
    createSession = jest.fn<SessionsService['create']>().mockResolvedValue(SESSION);
    replaceSession = jest.fn<SessionsService['replace']>().mockResolvedValue(SESSION);
    record = jest.fn<AuditService['record']>().mockResolvedValue(undefined);
    loginOutcome = jest.fn<MetricsService['loginOutcome']>();
    google = { allowedDomains: [], autoCreateUsers: true, audiences: ['web-client', 'android-client'] };
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [
        SignInService,
        { provide: GoogleIdTokenVerifier, useValue: { verify } },
        { provide: UsersService, useValue: users },
        { provide: SessionsService, useValue: { create: createSession, replace: replaceSession } },
        { provide: AuditService, useValue: { record } },
        { provide: MetricsService, useValue: { loginOutcome } },
        { provide: AppConfig, useValue: { google } },
        { provide: GoogleAccountBlocksService, useValue: { isDisabled: async () => false } },
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
      expect(replaceSession).not.toHaveBeenCalled();
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
      expect(replaceSession).not.toHaveBeenCalled();
    });

    it.each([
      ['an email domain not in the list', { email: 'ada@evilexample.com', hd: null }],
      ['an hd claim not in the list', { email: 'ada@example.com', hd: 'other.example' }],
    ])('refuses %s: domain_not_allowed', async (_, claims) => {
      google.allowedDomains = ['example.com'];
      verify.mockResolvedValue({ ...IDENTITY, ...claims });

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('domain_not_allowed');
      expect(replaceSession).not.toHaveBeenCalled();
    });

    it('refuses an unknown person when sign-ups are off: signup_disabled, no user created', async () => {
      google.autoCreateUsers = false;

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('signup_disabled');
      expect(users.createOrPromote).not.toHaveBeenCalled();
    });

    it('answers an unexpected failure (the session not stored) with google_error, and logs it', async () => {
      replaceSession.mockRejectedValue(new Error('Connection terminated'));

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('google_error');
      expect(logError).toHaveBeenCalledWith(expect.anything(), 'Sign-in failed unexpectedly');
    });

    it("signs the user with that Google sub in, landing on the state's next path", async () => {
      users.findByGoogleSub.mockResolvedValue(ADA);

      const answer = await service.completeCallback(granted());

      expect(answer).toEqual({ flow: 'login', reason: 'success', session: SESSION, nextPath: STATE.nextPath });
      expect(replaceSession).toHaveBeenCalledWith(null, ADA.id);
      expect(users.findByEmail).not.toHaveBeenCalled();
    });

    it('signs the user with that verified email in and records their Google sub', async () => {
      users.findByEmail.mockResolvedValue({ ...ADA, googleSub: null });

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('success');
      expect(users.bindGoogleSub).toHaveBeenCalledWith(ADA.id, IDENTITY.sub);
      expect(users.createOrPromote).not.toHaveBeenCalled();
    });

    it("refuses another Google account presenting a bound user's email: google_account_mismatch, audited, no session, nothing rebound", async () => {
      users.findByEmail.mockResolvedValue({ ...ADA, googleSub: 'google-sub-1' });
      users.bindGoogleSub.mockResolvedValue(false);
      verify.mockResolvedValue({ ...IDENTITY, sub: 'google-sub-2' });

      const answer = await service.completeCallback(granted());

      expect(answer).toEqual({ flow: 'login', reason: 'google_account_mismatch' });
      expect(users.bindGoogleSub).toHaveBeenCalledWith(ADA.id, 'google-sub-2');
      expect(record).toHaveBeenCalledWith({ action: 'google.account_mismatch', userId: ADA.id, actorId: null, googleUserId: 'google-sub-2' });
      expect(replaceSession).not.toHaveBeenCalled();
    });

    it('refuses a sign-up that finds the email taken meanwhile by a user of another Google account', async () => {
      users.createOrPromote.mockResolvedValue({ user: { ...ADA, googleSub: 'google-sub-9' }, created: false });
      users.bindGoogleSub.mockResolvedValue(false);

      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('google_account_mismatch');
      expect(replaceSession).not.toHaveBeenCalled();
    });

    it('replaces the session the browser already held', async () => {
      users.findByGoogleSub.mockResolvedValue(ADA);

      const answer = await service.completeCallback(granted({}, 'old-session'));

      expect(answer.reason).toBe('success');
      expect(replaceSession).toHaveBeenCalledWith('old-session', ADA.id);
    });

    it('creates an unknown, allowed person as a new user', async () => {
      const answer = await service.completeCallback(granted());

      expect(answer.reason).toBe('success');
      expect(users.createOrPromote).toHaveBeenCalledWith({ email: IDENTITY.email, name: IDENTITY.name, googleSub: IDENTITY.sub });
      expect(replaceSession).toHaveBeenCalledWith(null, ADA.id);
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

    it("refuses another Google account presenting a bound user's email with 403 google_account_mismatch", async () => {
      users.findByEmail.mockResolvedValue(ADA);
      users.bindGoogleSub.mockResolvedValue(false);
      verify.mockResolvedValue({ ...IDENTITY, sub: 'google-sub-2' });

      const exchange = service.exchangeIdToken('id.token.jwt');

      await expect(exchange).rejects.toMatchObject({ code: 'google_account_mismatch', status: 403 });
      expect(record).toHaveBeenCalledWith(expect.objectContaining({ action: 'google.account_mismatch', userId: ADA.id, googleUserId: 'google-sub-2' }));
      expect(createSession).not.toHaveBeenCalled();
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
