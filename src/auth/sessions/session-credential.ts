import type { AppRequest, Principal } from '../../common/request-context';
import { SESSION_COOKIE } from '../../common/request-context';

/** The session token a request presents: `Authorization: Bearer` first, else the `sid` cookie. */
export function sessionCredential(request: AppRequest): { token: string; via: Principal['via'] } | null | 'malformed' {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(authorization);
    return match ? { token: match[1], via: 'bearer' } : 'malformed';
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : null;
}
