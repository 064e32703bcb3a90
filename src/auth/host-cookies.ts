import type { AppRequest } from '../common/request-context';
import type { AppConfig } from '../config/app-config';

/**
 * Where a cookie of ours lives. On an https PUBLIC_URL its name is `__Host-` prefixed: browsers take
 * such a cookie only from this very host, Secure, with Path=/ and no Domain, so a sibling host
 * (evil.example.com beside link.example.com) can neither plant nor shadow it, and the plain name is
 * never read. On http (local mode) it keeps its plain name and `httpPath`.
 */
export function hostCookie(name: string, config: AppConfig, httpPath = '/'): { name: string; path: string } {
  return config.secureCookies ? { name: `__Host-${name}`, path: '/' } : { name, path: httpPath };
}

/**
 * Every value the raw Cookie header carries under `name`. A cookie parser keeps one of a repeated
 * name, and the browser sends a planted cookie with a longer path first: a duplicate must be seen.
 */
export function cookieValues(request: AppRequest, name: string): string[] {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator !== -1 && pair.slice(0, separator).trim() === name) values.push(pair.slice(separator + 1).trim());
  }
  return values;
}
