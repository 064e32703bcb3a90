import { jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SessionRevokedError } from '../../common/domain-error';
import type { AppRequest, Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import type { ProfileRow } from '../../users/user-profiles.service';
import { SessionGuard } from './session.guard';
import { ProfiledRequest, WITH_PROFILE } from './session-profile';
import { SessionsService } from './sessions.service';

const TOKEN = 'Qk3x8d0cW9aUu8pQ0mZx1yTn4kLr7sVb2eHf6gJd5cA';
const APP = 'https://app.example.com';

const PROFILE: ProfileRow = {
  id: 'user-1',
  email: 'ada@example.com',
  name: 'Ada',
  role: 'user',
  google_user_id: null,
  link_email: null,
  oauth_scope: null,
  status: null,
  linked_at: null,
  google_notice: null,
};
const principal = (via: Principal['via']): Principal => ({ userId: 'user-1', email: 'ada@example.com', role: 'user', sessionId: 'session-1', via });

function contextFor(request: Partial<AppRequest>): ExecutionContext {
  return {
    getHandler: () => undefined,
    getClass: () => undefined,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

/** A request; `sid` becomes the raw Cookie header, which is what the guard reads. */
const request = (parts: { method?: string; headers?: Record<string, string>; sid?: string }): Partial<AppRequest> => ({
  method: parts.method ?? 'GET',
  headers: { ...parts.headers, ...(parts.sid ? { cookie: `sid=${parts.sid}` } : {}) },
});

describe('SessionGuard', () => {
  let guard: SessionGuard;
  let isPublic: jest.Mock<(...args: unknown[]) => boolean | undefined>;
  let resolve: jest.Mock<SessionsService['resolve']>;
  let resolveWithProfile: jest.Mock<SessionsService['resolveWithProfile']>;
  let revokedReason: jest.Mock<SessionsService['revokedReason']>;

  beforeEach(async () => {
    isPublic = jest.fn(() => undefined);
    resolve = jest.fn<SessionsService['resolve']>(async (_token, via) => principal(via));
    resolveWithProfile = jest.fn<SessionsService['resolveWithProfile']>(async (_token, via) => ({ principal: principal(via), profile: PROFILE }));
    revokedReason = jest.fn<SessionsService['revokedReason']>(async () => null);
    const moduleRef = await Test.createTestingModule({
      providers: [
        SessionGuard,
        { provide: Reflector, useValue: { getAllAndOverride: isPublic } },
        { provide: SessionsService, useValue: { resolve, resolveWithProfile, revokedReason } },
        { provide: AppConfig, useValue: { trustedOrigins: [APP], secureCookies: false } },
      ],
    }).compile();
    guard = moduleRef.get(SessionGuard);
  });

  it('refuses a malformed Authorization header with unauthenticated, looking nothing up', async () => {
    const attempt = guard.canActivate(contextFor(request({ headers: { authorization: 'Basic YWRhOnNlY3JldA==' } })));

    await expect(attempt).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses a request with neither a Bearer token nor a sid cookie', async () => {
    await expect(guard.canActivate(contextFor(request({})))).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses two session cookies (a second one planted by another host) with unauthenticated, looking neither up', async () => {
    const attempt = guard.canActivate(contextFor(request({ headers: { cookie: `sid=${TOKEN}; theme=dark; sid=${'M'.repeat(43)}` } })));

    await expect(attempt).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses an unknown, revoked or expired session', async () => {
    resolve.mockResolvedValue(null);

    await expect(guard.canActivate(contextFor(request({ sid: TOKEN })))).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('tells the holder of a session Google ended why (the reason and its sentence), still as unauthenticated', async () => {
    resolve.mockResolvedValue(null);
    revokedReason.mockResolvedValue('google_account_disabled');

    const attempt = guard.canActivate(contextFor(request({ sid: TOKEN })));

    await expect(attempt).rejects.toBeInstanceOf(SessionRevokedError);
    await expect(attempt).rejects.toMatchObject({ code: 'unauthenticated', status: 401, revokedReason: 'google_account_disabled' });
    expect(revokedReason).toHaveBeenCalledWith(TOKEN);
  });

  it.each([
    ['from a foreign Origin', { origin: 'https://evil.example' }],
    ['with no Origin nor Referer', {}],
    ['with the literal Origin "null" and a foreign Referer', { origin: 'null', referer: 'https://evil.example/page' }],
    ['with a Referer that is not a URL', { referer: 'not a url' }],
  ])('refuses a cookie-authenticated change %s: csrf_rejected', async (_, headers) => {
    const attempt = guard.canActivate(contextFor(request({ method: 'DELETE', headers, sid: TOKEN })));

    await expect(attempt).rejects.toMatchObject({ code: 'csrf_rejected', status: 403 });
  });

  it('lets a public route through without reading any session', async () => {
    isPublic.mockReturnValue(true);

    const allowed = await guard.canActivate(contextFor(request({ headers: { authorization: 'garbage' } })));

    expect(allowed).toBe(true);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('accepts a cookie-authenticated change from a trusted Origin, or failing that a trusted Referer', async () => {
    const byOrigin = request({ method: 'POST', headers: { origin: APP }, sid: TOKEN });
    const byReferer = request({ method: 'POST', headers: { referer: `${APP}/users/me` }, sid: TOKEN });

    expect(await guard.canActivate(contextFor(byOrigin))).toBe(true);
    expect(await guard.canActivate(contextFor(byReferer))).toBe(true);
  });

  it('exempts Bearer tokens from the origin check, and prefers them over the cookie', async () => {
    const bearer = request({ method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` }, sid: 'cookie-token' });

    const allowed = await guard.canActivate(contextFor(bearer));

    expect(allowed).toBe(true);
    expect(resolve).toHaveBeenCalledWith(TOKEN, 'bearer');
    expect(bearer.principal).toEqual(principal('bearer'));
  });

  it('sets the principal of a valid cookie session on a safe request', async () => {
    const read = request({ sid: TOKEN });

    const allowed = await guard.canActivate(contextFor(read));

    expect(allowed).toBe(true);
    expect(resolve).toHaveBeenCalledWith(TOKEN, 'cookie');
    expect(read.principal).toEqual(principal('cookie'));
  });

  it('on a @WithProfile() route reads the session and the profile in one call, and hands the profile on', async () => {
    isPublic.mockImplementation((key) => (key === WITH_PROFILE ? true : undefined));
    const read: Partial<ProfiledRequest> = request({ headers: { authorization: `Bearer ${TOKEN}` } });

    const allowed = await guard.canActivate(contextFor(read));

    expect(allowed).toBe(true);
    expect(resolveWithProfile).toHaveBeenCalledWith(TOKEN, 'bearer');
    expect(resolve).not.toHaveBeenCalled();
    expect(read.principal).toEqual(principal('bearer'));
    expect(read.sessionProfile).toEqual(PROFILE);
  });

  it('on a @WithProfile() route refuses a revoked or expired session, with no profile set', async () => {
    isPublic.mockImplementation((key) => (key === WITH_PROFILE ? true : undefined));
    resolveWithProfile.mockResolvedValue(null);
    const read: Partial<ProfiledRequest> = request({ sid: TOKEN });

    await expect(guard.canActivate(contextFor(read))).rejects.toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(read.sessionProfile).toBeUndefined();
  });
});
