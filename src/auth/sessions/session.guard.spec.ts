import { jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { AppRequest, Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { SessionGuard } from './session.guard';
import { SessionsService } from './sessions.service';

const TOKEN = 'Qk3x8d0cW9aUu8pQ0mZx1yTn4kLr7sVb2eHf6gJd5cA';
const APP = 'https://app.example.com';

const principal = (via: Principal['via']): Principal => ({ userId: 'user-1', email: 'ada@example.com', role: 'user', sessionId: 'session-1', via });

function contextFor(request: Partial<AppRequest>): ExecutionContext {
  return {
    getHandler: () => undefined,
    getClass: () => undefined,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

const request = (parts: { method?: string; headers?: Record<string, string>; sid?: string }): Partial<AppRequest> => ({
  method: parts.method ?? 'GET',
  headers: parts.headers ?? {},
  cookies: parts.sid ? { sid: parts.sid } : {},
});

describe('SessionGuard', () => {
  let guard: SessionGuard;
  let isPublic: jest.Mock<(...args: unknown[]) => boolean | undefined>;
  let resolve: jest.Mock<SessionsService['resolve']>;

  beforeEach(async () => {
    isPublic = jest.fn(() => undefined);
    resolve = jest.fn<SessionsService['resolve']>(async (_token, via) => principal(via));
    const moduleRef = await Test.createTestingModule({
      providers: [
        SessionGuard,
        { provide: Reflector, useValue: { getAllAndOverride: isPublic } },
        { provide: SessionsService, useValue: { resolve } },
        { provide: AppConfig, useValue: { trustedOrigins: [APP] } },
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

  it('refuses an unknown, revoked or expired session', async () => {
    resolve.mockResolvedValue(null);

    await expect(guard.canActivate(contextFor(request({ sid: TOKEN })))).rejects.toMatchObject({ code: 'unauthenticated' });
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
});
