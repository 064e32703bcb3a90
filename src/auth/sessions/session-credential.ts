import type { AppRequest, Principal } from '../../common/request-context';
import type { AppConfig } from '../../config/app-config';
import { cookieValues } from '../host-cookies';
import { sessionCookieName } from './session-cookie';

export interface SessionCredential {
  token: string;
  via: Principal['via'];
}

/**
 * The session token a request presents: `Authorization: Bearer` first, else the session cookie.
 * `malformed`: an Authorization header that is not a Bearer token. `ambiguous`: more than one session
 * cookie, which no browser of ours holds unless another host planted one: it names no session.
 */
export function sessionCredential(request: AppRequest, config: AppConfig): SessionCredential | null | 'malformed' | 'ambiguous' {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization);
    return match ? { token: match[1], via: 'bearer' } : 'malformed';
  }
  const cookies = cookieValues(request, sessionCookieName(config));
  if (cookies.length > 1) return 'ambiguous';
  return cookies[0] ? { token: cookies[0], via: 'cookie' } : null;
}
