import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../../config/app-config';
import { GoogleUnavailableError, InvalidIdTokenError } from '../../google/google-errors';
import { GoogleIdTokenVerifier } from '../../google/google-id-token.verifier';
import { GoogleOAuthClient } from '../../google/google-oauth.client';
import { GoogleLinksService } from '../../users/google-links.service';
import { GoogleRevocationsService } from '../../users/google-revocations.service';
import { LinkRefusedError } from '../../users/link-refused.error';
import type { ConsumedOutcome, GoogleGrant } from '../google-oauth/callback-outcome';
import type { ConsumedState } from '../google-oauth/oauth-state.store';
import { LinkCallbackService } from './link-callback.service';

const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const STATE: ConsumedState = { purpose: 'link', userId: 'user-1', codeVerifier: 'verifier', nonce: 'nonce-1', nextPath: null };
const GRANT: GoogleGrant = {
  accessToken: 'ya29.access',
  refreshToken: '1//refresh',
  expiresIn: 3599,
  scope: `openid email ${CALENDAR}`,
  idToken: 'id.token.jwt',
};
const IDENTITY = { sub: 'google-sub-1', email: 'ada@example.com', emailVerified: true, name: 'Ada', hd: null };

const granted = (grant: Partial<GoogleGrant> = {}): ConsumedOutcome => ({ kind: 'granted', state: STATE, grant: { ...GRANT, ...grant } });

describe('LinkCallbackService', () => {
  let service: LinkCallbackService;
  let verify: jest.Mock<GoogleIdTokenVerifier['verify']>;
  let userInfo: jest.Mock<GoogleOAuthClient['userInfo']>;
  let holderOf: jest.Mock<GoogleLinksService['holderOf']>;
  let save: jest.Mock<GoogleLinksService['save']>;
  let revoke: jest.Mock<GoogleRevocationsService['revoke']>;
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(async () => {
    verify = jest.fn<GoogleIdTokenVerifier['verify']>().mockResolvedValue(IDENTITY);
    userInfo = jest.fn<GoogleOAuthClient['userInfo']>();
    holderOf = jest.fn<GoogleLinksService['holderOf']>().mockResolvedValue(null);
    save = jest.fn<GoogleLinksService['save']>().mockResolvedValue('linked');
    revoke = jest.fn<GoogleRevocationsService['revoke']>().mockResolvedValue(undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [
        LinkCallbackService,
        { provide: GoogleLinksService, useValue: { holderOf, save } },
        { provide: GoogleRevocationsService, useValue: { revoke } },
        { provide: GoogleIdTokenVerifier, useValue: { verify } },
        { provide: GoogleOAuthClient, useValue: { userInfo } },
        { provide: AppConfig, useValue: { google: { requiredScopes: [CALENDAR] } } },
      ],
    }).compile();
    service = moduleRef.get(LinkCallbackService);
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers a cancelled consent with access_denied, touching neither Google nor the links', async () => {
    const answer = await service.complete({ kind: 'denied', state: STATE });

    expect(answer).toEqual({ flow: 'link', reason: 'access_denied' });
    expect(verify).not.toHaveBeenCalled();
    expect(save).not.toHaveBeenCalled();
  });

  it('answers a failed exchange with google_error and logs why', async () => {
    const answer = await service.complete({ kind: 'google_failed', state: STATE, error: new GoogleUnavailableError('token', 'timeout') });

    expect(answer).toEqual({ flow: 'link', reason: 'google_error' });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('timeout'));
    expect(save).not.toHaveBeenCalled();
  });

  it('answers an ID token that does not verify (e.g. another nonce) with google_error, storing nothing', async () => {
    verify.mockRejectedValue(new InvalidIdTokenError('nonce mismatch'));

    const answer = await service.complete(granted());

    expect(answer.reason).toBe('google_error');
    expect(verify).toHaveBeenCalledWith(GRANT.idToken, { nonce: STATE.nonce });
    expect(save).not.toHaveBeenCalled();
    expect(revoke).not.toHaveBeenCalled();
  });

  it('refuses a partial grant with missing_scopes and revokes it, since no link holds that account', async () => {
    const answer = await service.complete(granted({ scope: 'openid email' }));

    expect(answer.reason).toBe('missing_scopes');
    expect(revoke).toHaveBeenCalledWith({ token: GRANT.refreshToken, googleUserId: IDENTITY.sub, userId: STATE.userId });
    expect(save).not.toHaveBeenCalled();
  });

  it("answers a partial grant for another user's account with google_account_in_use, never revoking the grant that user's link shares", async () => {
    holderOf.mockResolvedValue('someone-else');

    const answer = await service.complete(granted({ scope: 'openid email' }));

    expect(answer.reason).toBe('google_account_in_use');
    expect(revoke).not.toHaveBeenCalled();
  });

  it('still answers missing_scopes when the revocation itself fails', async () => {
    revoke.mockRejectedValue(new Error('database unavailable'));

    const answer = await service.complete(granted({ scope: 'openid email' }));

    expect(answer.reason).toBe('missing_scopes');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Could not revoke'));
  });

  it('answers an account linked to another user (refused while saving) with google_account_in_use, revoking nothing', async () => {
    save.mockRejectedValue(new LinkRefusedError('google_account_in_use'));

    const answer = await service.complete(granted());

    expect(answer.reason).toBe('google_account_in_use');
    expect(revoke).not.toHaveBeenCalled();
  });

  it('answers a grant without offline access with no_offline_access and revokes its access token', async () => {
    save.mockRejectedValue(new LinkRefusedError('no_offline_access'));

    const answer = await service.complete(granted({ refreshToken: undefined }));

    expect(answer.reason).toBe('no_offline_access');
    expect(revoke).toHaveBeenCalledWith({ token: GRANT.accessToken, googleUserId: IDENTITY.sub, userId: STATE.userId });
  });

  it('answers a link that cannot be stored with google_error', async () => {
    save.mockRejectedValue(new Error('Connection terminated'));

    const answer = await service.complete(granted());

    expect(answer.reason).toBe('google_error');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Connection terminated'));
  });

  it('answers a grant without ID token whose userinfo has no email with google_error', async () => {
    userInfo.mockResolvedValue({ sub: 'google-sub-1' });

    const answer = await service.complete(granted({ idToken: undefined }));

    expect(answer.reason).toBe('google_error');
    expect(userInfo).toHaveBeenCalledWith(GRANT.accessToken);
    expect(save).not.toHaveBeenCalled();
  });

  it("stores the link for the state's user under the verified identity: success", async () => {
    const answer = await service.complete(granted());

    expect(answer).toEqual({ flow: 'link', reason: 'success' });
    expect(save).toHaveBeenCalledWith({
      userId: STATE.userId,
      googleUserId: IDENTITY.sub,
      email: IDENTITY.email,
      accessToken: GRANT.accessToken,
      refreshToken: GRANT.refreshToken,
      expiresIn: GRANT.expiresIn,
      scope: GRANT.scope,
    });
    expect(revoke).not.toHaveBeenCalled();
  });

  it('identifies a grant without ID token (no openid) through userinfo', async () => {
    userInfo.mockResolvedValue({ sub: 'google-sub-2', email: 'grace@example.com' });

    const answer = await service.complete(granted({ idToken: undefined }));

    expect(answer.reason).toBe('success');
    expect(save).toHaveBeenCalledWith(expect.objectContaining({ googleUserId: 'google-sub-2', email: 'grace@example.com' }));
    expect(verify).not.toHaveBeenCalled();
  });
});
