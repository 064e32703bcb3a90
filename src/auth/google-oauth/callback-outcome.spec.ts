import { jest } from '@jest/globals';
import type { FastifyReply } from 'fastify';
import type { AppConfig } from '../../config/app-config';
import { CallbackAnswer, callbackLocation, sendCallbackAnswer } from './callback-outcome';

const CONFIG = {
  frontendUrl: 'https://app.example.com',
  loginFailedUrl: 'https://app.example.com/login-failed',
  secureCookies: true,
  sessionTtlSeconds: 86400,
} as AppConfig;
const SESSION = { token: 'session-token', expiresIn: 86400 };

function recordingReply() {
  const reply = {
    headers: {} as Record<string, string>,
    cookies: [] as Array<{ name: string; value: string; options: Record<string, unknown> }>,
    redirect: jest.fn(),
    header(name: string, value: string) {
      reply.headers[name] = value;
      return reply;
    },
    setCookie(name: string, value: string, options: Record<string, unknown>) {
      reply.cookies.push({ name, value, options });
      return reply;
    },
  };
  return reply;
}

describe('callbackLocation', () => {
  it.each<[string, CallbackAnswer, string]>([
    ['a refused link', { flow: 'link', reason: 'missing_scopes' }, 'https://app.example.com/users/me?google_link=error&reason=missing_scopes'],
    [
      'a failed sign-in, on LOGIN_FAILED_URL',
      { flow: 'login', reason: 'invalid_state' },
      'https://app.example.com/login-failed?google_login=error&reason=invalid_state',
    ],
    ['a link', { flow: 'link', reason: 'success' }, 'https://app.example.com/users/me?google_link=success'],
    [
      'a sign-in, on its next path',
      { flow: 'login', reason: 'success', session: SESSION, nextPath: '/calendar?week=2' },
      'https://app.example.com/calendar?week=2',
    ],
    ['a sign-in without next, on users/me', { flow: 'login', reason: 'success', session: SESSION, nextPath: null }, 'https://app.example.com/users/me'],
  ])('sends %s to its page', (_, answer, location) => {
    expect(callbackLocation(answer, CONFIG)).toBe(location);
  });
});

describe('sendCallbackAnswer', () => {
  it('answers a failure with an uncached 302 that leaks no Referer, and sets no cookie', () => {
    const reply = recordingReply();

    sendCallbackAnswer(reply as unknown as FastifyReply, CONFIG, { flow: 'login', reason: 'google_error' });

    expect(reply.redirect).toHaveBeenCalledWith('https://app.example.com/login-failed?google_login=error&reason=google_error', 302);
    expect(reply.headers).toEqual({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    expect(reply.cookies).toEqual([]);
  });

  it('sets the HttpOnly session cookie of a sign-in', () => {
    const reply = recordingReply();

    sendCallbackAnswer(reply as unknown as FastifyReply, CONFIG, { flow: 'login', reason: 'success', session: SESSION, nextPath: null });

    expect(reply.cookies).toEqual([
      { name: 'sid', value: 'session-token', options: { httpOnly: true, sameSite: 'lax', secure: true, path: '/', maxAge: 86400 } },
    ]);
    expect(reply.redirect).toHaveBeenCalledWith('https://app.example.com/users/me', 302);
  });
});
