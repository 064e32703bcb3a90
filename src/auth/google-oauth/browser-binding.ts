import type { FastifyReply } from 'fastify';
import type { AppRequest } from '../../common/request-context';
import type { AppConfig } from '../../config/app-config';
import { cookieValues, hostCookie } from '../host-cookies';
import { isSecretToken, newSecretToken } from '../secret-token';

/** The cookie that binds a flow to the browser that started it; only its hash is stored with the state. */
const bindingCookie = (config: AppConfig) => hostCookie('g_oauth_binding', config, '/api/v1/auth/google');

/** The browser's binding secret for a new flow: reused while the cookie lives, so parallel tabs keep working. */
export function bindBrowser(request: AppRequest, reply: FastifyReply, config: AppConfig): string {
  const existing = presentedBinding(request, config);
  const secret = isSecretToken(existing) ? existing : newSecretToken();
  const { name, path } = bindingCookie(config);
  reply.setCookie(name, secret, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    path,
    maxAge: config.stateTtlSeconds,
  });
  return secret;
}

/** The binding secret a callback came back with: none when there are several (one was planted). */
export function presentedBinding(request: AppRequest, config: AppConfig): string | undefined {
  const values = cookieValues(request, bindingCookie(config).name);
  return values.length === 1 ? values[0] : undefined;
}
