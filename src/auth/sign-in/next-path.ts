const BASE = 'http://next.invalid';
/** oauth_states.next_path is varchar(512). */
const MAX_LENGTH = 512;

/**
 * A `next` that can only lead back into the web app: a relative path (`/…`), never `//host`,
 * a scheme, a backslash, a control character, or an encoded form of those. Anything else: null.
 */
export function safeNextPath(next: unknown): string | null {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_LENGTH) return null;
  if (!next.startsWith('/') || next.startsWith('//')) return null;
  let decoded = next;
  try {
    for (let round = 0; round < 3; round += 1) decoded = decodeURIComponent(decoded);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(next) || /[\\\u0000-\u001f\u007f]/.test(decoded) || decoded.startsWith('//')) return null;
  const url = new URL(next, BASE);
  if (url.origin !== BASE) return null;
  // Normalising percent-encodes: one é becomes the six characters %C3%A9.
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.length <= MAX_LENGTH ? path : null;
}
