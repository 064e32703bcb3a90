import fc from 'fast-check';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Property: whatever arrives in the path, query, body, cookies or headers, no route answers 5xx,
 * and every error is `{ statusCode, code, message }` with no stack trace.
 */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 60);

interface Operation {
  method: string;
  path: string;
}

const hostile = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'undefined',
    'true',
    '-1',
    '0',
    '1e309',
    'NaN',
    '%00',
    '%',
    '%zz',
    '../../etc/passwd',
    "' OR 1=1 --",
    '<script>',
    '{"a":',
    '[]',
    '__proto__',
    'constructor',
  ),
  fc.integer().map(String),
  fc.uuid(),
  fc.string({ maxLength: 3000 }),
);
const queryValue = fc.oneof(hostile, fc.array(hostile, { maxLength: 3 }));
const jsonValue = fc.jsonValue({ maxDepth: 3 });

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, () => encodeURIComponent(value));
}

/** Google's security event receiver refuses in RFC 8935's shape (`{ err, description }`), as Google expects. */
const RFC8935_PATHS = new Set(['/api/v1/google/risc']);

function assertCleanError(status: number, body: string, context: string, path: string): void {
  if (status >= 500) throw new Error(`${context} answered ${status}: ${body.slice(0, 300)}`);
  if (status >= 400) {
    const parsed = JSON.parse(body);
    if (status === 400 && RFC8935_PATHS.has(path)) {
      if (typeof parsed.err !== 'string' || typeof parsed.description !== 'string') throw new Error(`${context}: not an RFC 8935 error: ${body.slice(0, 300)}`);
    } else if (parsed.statusCode !== status || typeof parsed.code !== 'string' || typeof parsed.message !== 'string') {
      throw new Error(`${context}: error body not in the error shape: ${body.slice(0, 300)}`);
    }
    if (/\bat [\w.]+ \(|node_modules|\.ts:\d+/.test(body)) throw new Error(`${context}: stack trace in body`);
  }
}

describe('fuzzing every route (e2e, fast-check)', () => {
  let app: TestApp;
  let operations: Operation[];
  let bearer: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp({ AUTH_RATE_LIMIT: '100000' });
    const admin = await signedInUser(app.database, uniqueEmail('fuzz-admin'), { admin: true });
    bearer = admin.bearer;
    const document = (await app.client().get('/api/docs-json')).json();
    operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await app?.close();
  });

  it('found the documented routes', () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
  });

  it('never answers 5xx nor leaks internals, for any path, query, body, cookie or header', async () => {
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(
          hostile,
          fc.dictionary(fc.constantFrom('limit', 'cursor', 'linked', 'userId', 'from', 'to', 'next', 'state', 'code', 'error', 'scope', 'x'), queryValue, {
            maxKeys: 4,
          }),
          fc.option(jsonValue, { nil: undefined }),
          fc.boolean(),
          fc.option(hostile, { nil: undefined }),
          async (pathValue, query, body, authenticated, cookie) => {
            const search = new URLSearchParams();
            for (const [key, value] of Object.entries(query)) for (const item of [value].flat()) search.append(key, item);
            const url = `${app.url}${fill(operation.path, pathValue)}${search.size ? `?${search.toString()}` : ''}`;
            const headers: Record<string, string> = { origin: app.url };
            if (authenticated) Object.assign(headers, bearer);
            if (cookie !== undefined) headers.cookie = `sid=${encodeURIComponent(cookie)}; g_oauth_binding=${encodeURIComponent(cookie)}`;
            let payload: string | undefined;
            if (body !== undefined && operation.method !== 'GET') {
              payload = JSON.stringify(body);
              headers['content-type'] = 'application/json';
            }
            const response = await fetch(url, { method: operation.method, headers, body: payload, redirect: 'manual' });
            assertCleanError(response.status, await response.text(), `${operation.method} ${url.slice(0, 200)}`, operation.path);
          },
        ),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
  });

  it('refuses an oversized body with 413 in the error shape', async () => {
    const reply = await app.client().request('POST', '/api/v1/auth/google/token', {
      rawBody: JSON.stringify({ idToken: 'x'.repeat(200_000) }),
      headers: { 'content-type': 'application/json' },
    });

    expect(reply.status).toBe(413);
    expect(reply.json()).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
  });

  it('refuses oversized headers without crashing (431), and keeps serving', async () => {
    const response = await fetch(`${app.url}/api/v1/users/me`, { headers: { 'x-big': 'y'.repeat(40_000) } }).catch(() => undefined);

    expect(response === undefined || response.status === 431).toBe(true);
    expect((await app.client().get('/health/live')).status).toBe(200);
  });

  it('answers a body that is not JSON, or JSON of the wrong type, with 400', async () => {
    for (const rawBody of ['not json', '"a string"', '[1,2]', 'null', '{"idToken": {"$ne": null}}']) {
      const reply = await app.client().request('POST', '/api/v1/auth/google/token', { rawBody, headers: { 'content-type': 'application/json' } });

      expect(reply.status).toBe(400);
      expect(reply.json().code).toBe('invalid_request');
    }
  });
});
