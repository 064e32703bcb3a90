import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';

export type * from './schema.js';

/** Every route of the service, typed from its OpenAPI document: `client.GET('/api/v1/users/me')`. */
export type GoogleLinkClient = Client<paths>;

export interface GoogleLinkClientOptions {
  /** The service's PUBLIC_URL, e.g. `https://link.example.com`. */
  baseUrl: string;
  /**
   * A session token (token exchange, sign-in, `sessions:create`), sent as `Authorization: Bearer`.
   * Without one, the browser's session cookie (`sid`; `__Host-sid` on https) authenticates (same site, or an origin in CORS_ORIGINS).
   * A function is asked before every request, so a token that changes is picked up.
   */
  sessionToken?: string | (() => string | undefined);
  /** Another fetch (tests, server-side rendering); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createGoogleLinkClient(options: GoogleLinkClientOptions): GoogleLinkClient {
  // Cookies travel even with a Bearer token: linking sets a binding cookie that the callback needs
  // from the same browser.
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), credentials: 'include', fetch: options.fetch });
  const { sessionToken } = options;
  if (sessionToken !== undefined) {
    client.use({
      onRequest({ request }) {
        const token = typeof sessionToken === 'function' ? sessionToken() : sessionToken;
        if (token) request.headers.set('authorization', `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}

type Navigate = (url: string) => void;
const assignLocation: Navigate = (url) => {
  const location = (globalThis as { location?: { assign(url: string): void } }).location;
  if (!location) throw new Error('No browser here to navigate: pass navigate');
  location.assign(url);
};

/**
 * Connects the signed-in user's Google account: asks for Google's consent URL, then sends the
 * browser there (the consent cannot happen in a fetch). The browser comes back to
 * `${FRONTEND_URL}/users/me?google_link=success` or `?google_link=error&reason=…`.
 */
export async function connectGoogleAccount(client: GoogleLinkClient, navigate: Navigate = assignLocation): Promise<void> {
  const { data, error } = await client.GET('/api/v1/auth/google/link');
  if (error) throw new GoogleLinkError(error);
  navigate(data.url);
}

/** Sign-in is a browser navigation too (a 302 to Google): its URL, to link to or to assign. */
export function signInUrl(baseUrl: string, next = '/users/me'): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v1/auth/google?next=${encodeURIComponent(next)}`;
}

type ErrorBody = paths['/api/v1/auth/google/link']['get']['responses'][401]['content']['application/json'];

/** An error answer as an exception, for code that prefers throwing to `{ data, error }`. */
export class GoogleLinkError extends Error {
  override name = 'GoogleLinkError';
  readonly statusCode: number;
  readonly code: ErrorBody['code'];

  constructor(body: ErrorBody) {
    super(body.message);
    this.statusCode = body.statusCode;
    this.code = body.code;
  }
}
