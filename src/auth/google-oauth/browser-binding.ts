import type { FastifyReply } from 'fastify';
import type { AppRequest } from '../../common/request-context';
import type { AppConfig } from '../../config/app-config';
import { isSecretToken, newSecretToken } from '../secret-token';

/** The cookie that binds a flow to the browser that started it; only its hash is stored with the state. */
export const BINDING_COOKIE = 'g_oauth_binding';
const BINDING_COOKIE_PATH = '/api/v1/auth/google';

/** The browser's binding secret for a new flow: reused while the cookie lives, so parallel tabs keep working. */
export function bindBrowser(request: AppRequest, reply: FastifyReply, config: AppConfig): string {
  const existing = request.cookies?.[BINDING_COOKIE];
  const secret = isSecretToken(existing) ? existing : newSecretToken();
  reply.setCookie(BINDING_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    path: BINDING_COOKIE_PATH,
    maxAge: config.stateTtlSeconds,
  });
  return secret;
}

/** The binding secret a callback came back with, if any. */
export const presentedBinding = (request: AppRequest): string | undefined => request.cookies?.[BINDING_COOKIE];
