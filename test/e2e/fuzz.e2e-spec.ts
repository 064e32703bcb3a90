import { connect } from 'node:net';
import fc from 'fast-check';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Property: whatever arrives in the path, query, body, cookies or headers, no route answers 5xx,
 * and every error is `{ statusCode, code, message }` with a documented code and no stack trace.
 * Every operation of the OpenAPI document is driven with its own parameters and body fields, and
 * with deep nesting, long and non-ASCII strings and dates only some parsers accept. A fixed seed and
 * number of runs keep it reproducible and bounded (FUZZ_RUNS / FUZZ_SEED explore further by hand).
 */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const RAW_RUNS = 30;

interface Operation {
  method: string;
  path: string;
  query: string[];
  bodyFields: string[];
  bodyType: string | undefined;
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

/** Longer than columns, route parameters (200) and most limits, often multi-byte once encoded. */
const longText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 201, maxLength: 1200 }),
  fc.string({ minLength: 201, maxLength: 3000, size: 'max' }),
  fc
    .tuple(fc.constantFrom('é', '𝔘', '中', '\u202e', '\ufeff', '\u0000', '%', '/', 'a'), fc.integer({ min: 100, max: 1500 }))
    .map(([unit, count]) => unit.repeat(count)),
);

/** Instants across JavaScript's whole range, and strings Date.parse takes but PostgreSQL does not. */
const extremeDate = fc.oneof(
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom(
    '1',
    '2020',
    '+275760-09-13',
    '-271821-04-20T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '10000-01-01',
    '2020-02-30',
    '2020-13-01',
    '1970-01-01T00:00:00+25:00',
    'Tue Mar 01 2022',
  ),
  fc.integer().map(String),
);

/** Cursors shaped like ours ([instant, id], base64url) around hostile instants and ids. */
const cursor = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 2, arbitrary: extremeDate }, { weight: 1, arbitrary: hostile }),
        fc.oneof({ weight: 3, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostile }),
      )
      .map((position) => Buffer.from(JSON.stringify(position)).toString('base64url')),
  },
  { weight: 1, arbitrary: hostile },
);

/** Up to 5,000 levels of arrays, objects or both, as a JSON text (built as text: no value that deep is needed). */
const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 5000 }), fc.constantFrom('array', 'object', 'mixed'), fc.jsonValue({ maxDepth: 1 }))
  .map(([depth, kind, leaf]) => {
    const open = kind === 'array' ? '[' : kind === 'object' ? '{"a":' : '[{"a":';
    const close = kind === 'array' ? ']' : kind === 'object' ? '}' : '}]';
    const levels = kind === 'mixed' ? Math.ceil(depth / 2) : depth;
    return `${open.repeat(levels)}${JSON.stringify(leaf) ?? 'null'}${close.repeat(levels)}`;
  });

const anyText = fc.oneof(hostile, longText, extremeDate);
const QUERY_VALUES: Record<string, fc.Arbitrary<string>> = {
  next: fc.oneof(
    anyText,
    anyText.map((text) => `/${text}`),
  ),
  from: fc.oneof(extremeDate, hostile),
  to: fc.oneof(extremeDate, hostile),
  cursor,
  limit: fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), hostile),
  linked: fc.oneof(fc.constantFrom('true', 'false'), hostile),
  userId: fc.oneof(fc.uuid(), hostile),
};
const queryValue = (name: string) => {
  const value = QUERY_VALUES[name] ?? anyText;
  // Mostly one value: a repeated parameter is refused before anything else is tried.
  return fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }) });
};
/** Names no operation documents (the callback's, and nonsense): each operation gets a few too. */
const UNDOCUMENTED_QUERY = ['limit', 'cursor', 'linked', 'userId', 'from', 'to', 'next', 'state', 'code', 'error', 'scope', 'iss', 'x', '__proto__'];

/** A path parameter, percent-encoded, or raw when it is itself a (malformed) encoding. */
const pathValue = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(hostile, longText).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%E0%A4%A', '%C0%AF', '%00', '..', '%2e%2e', '%FF%FE') },
);

function bodyFor(operation: Operation): fc.Arbitrary<{ type: string; text: string } | undefined> {
  const json = (text: fc.Arbitrary<string>) => text.map((body) => ({ type: 'application/json', text: body }));
  const fieldValue = fc.oneof(anyText, fc.jsonValue({ maxDepth: 3 }));
  const fields = [...operation.bodyFields, 'x', 'constructor'];
  return fc.oneof(
    fc.constant(undefined),
    json(fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value))),
    json(deepJson),
    json(fc.dictionary(fc.constantFrom(...fields), fieldValue, { maxKeys: 3 }).map((value) => JSON.stringify(value))),
    json(fc.tuple(fc.constantFrom(...fields), deepJson).map(([field, deep]) => `{${JSON.stringify(field)}:${deep}}`)),
    json(fc.constantFrom('', '{', '{"__proto__":{"admin":true}}', 'null', '"x"')),
    anyText.map((text) => ({ type: operation.bodyType ?? 'application/json', text })),
    fc
      .tuple(fc.constantFrom('text/plain', 'application/xml', 'application/json; charset=utf-16', 'multipart/form-data', 'not a type'), anyText)
      .map(([type, text]) => ({ type, text })),
  );
}

function fill(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, () => value);
}

/** Google's security event receiver refuses in RFC 8935's shape (`{ err, description }`), as Google expects. */
const RFC8935_PATHS = new Set(['/api/v1/google/risc']);

function assertCleanError(status: number, body: string, context: string, path: string, codes: Set<string>): void {
  if (status >= 500) throw new Error(`${context} answered ${status}: ${body.slice(0, 300)}`);
  if (status >= 400) {
    const parsed = JSON.parse(body);
    // A refusal of the SET itself; what the HTTP layer refuses before (malformed JSON sent to it) is in ours.
    if (status === 400 && RFC8935_PATHS.has(path) && 'err' in parsed) {
      if (typeof parsed.err !== 'string' || typeof parsed.description !== 'string') throw new Error(`${context}: not an RFC 8935 error: ${body.slice(0, 300)}`);
    } else if (parsed.statusCode !== status || !codes.has(parsed.code) || typeof parsed.message !== 'string' || Object.keys(parsed).length !== 3) {
      throw new Error(`${context}: error body not in the error shape with a documented code: ${body.slice(0, 300)}`);
    }
    if (/\bat [\w.]+ \(|node_modules|\.ts:\d+|FST_ERR|HPE_/.test(body)) throw new Error(`${context}: internals in body`);
  }
}

function operationsOf(document: {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: { content: Record<string, { schema?: { $ref?: string } }> } }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const [bodyType, media] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
      const schema = media?.schema?.$ref ? document.components.schemas[media.schema.$ref.split('/').pop()!] : undefined;
      return {
        method: method.toUpperCase(),
        path,
        query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
        bodyType,
      };
    }),
  );
}

/** Sends `request` on a fresh socket, half-closes, and resolves to what came back once the server closes. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(port), hostname, () => socket.end(request));
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 10 s for ${JSON.stringify(request.slice(0, 200))}`));
    }, 10_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

describe('fuzzing every route (e2e, fast-check)', () => {
  let app: TestApp;
  let operations: Operation[];
  let codes: Set<string>;
  let bearer: Record<string, string>;

  beforeAll(async () => {
    app = await startTestApp({ AUTH_RATE_LIMIT: '100000' });
    const admin = await signedInUser(app.database, uniqueEmail('fuzz-admin'), { admin: true });
    bearer = admin.bearer;
    const document = (await app.client().get('/api/docs-json')).json();
    operations = operationsOf(document);
    codes = new Set(document.components.schemas.ErrorResponse.properties.code.enum);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('found the documented routes, their parameters and bodies', () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
    expect(operations.find((operation) => operation.path === '/api/v1/admin/users')?.query).toEqual(expect.arrayContaining(['cursor', 'limit']));
    expect(operations.find((operation) => operation.path === '/api/v1/auth/google/token')?.bodyFields).toEqual(['idToken']);
    expect(codes.has('invalid_request')).toBe(true);
  });

  it('never answers 5xx nor leaks internals, for any path, query, body, cookie or header', async () => {
    // Every operation runs, so one failure does not hide another's.
    const failures: string[] = [];
    for (const operation of operations) {
      const documented = fc.record(Object.fromEntries(operation.query.map((name) => [name, fc.option(queryValue(name), { nil: undefined })])));
      // Rarely: an unknown parameter is refused before the documented ones reach the database.
      const undocumented = fc.oneof(
        { weight: 3, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...UNDOCUMENTED_QUERY), fc.oneof(anyText, fc.array(anyText, { maxLength: 3 })), { maxKeys: 3 }) },
      );
      const outcome = await fc.check(
        fc.asyncProperty(
          pathValue,
          documented,
          undocumented,
          bodyFor(operation),
          fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          fc.option(hostile, { nil: undefined }),
          async (pathSegment, known, unknown, body, authenticated, cookie) => {
            const search = new URLSearchParams();
            for (const [key, value] of Object.entries({ ...unknown, ...known })) {
              if (value !== undefined) for (const item of [value].flat()) search.append(key, item);
            }
            const url = `${app.url}${fill(operation.path, pathSegment)}${search.size ? `?${search.toString()}` : ''}`;
            const headers: Record<string, string> = { origin: app.url };
            if (authenticated) Object.assign(headers, bearer);
            if (cookie !== undefined) headers.cookie = `sid=${encodeURIComponent(cookie)}; g_oauth_binding=${encodeURIComponent(cookie)}`;
            const withBody = body !== undefined && operation.method !== 'GET';
            if (withBody) headers['content-type'] = body.type;
            const response = await fetch(url, { method: operation.method, headers, body: withBody ? body.text : undefined, redirect: 'manual' });
            assertCleanError(response.status, await response.text(), `${operation.method} ${url.slice(0, 200)}`, operation.path, codes);
          },
        ),
        // No shrinking: a failure is reported at once, so a broken build cannot run for minutes.
        { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
      );
      if (outcome.failed)
        failures.push(`${operation.method} ${operation.path}: ${String((outcome.errorInstance as Error)?.message ?? outcome.errorInstance).slice(0, 400)}`);
    }

    expect(failures).toEqual([]);
  }, 300_000);

  it('answers malformed HTTP framing (chunk sizes, lengths, request lines) in the error shape, or not at all', async () => {
    const chunkSize = fc.oneof(
      fc.nat(40).map((size) => size.toString(16)),
      fc.constantFrom('zz', '-1', '', 'ffffffffffffffff', '5;ext=1', '0x5', ' 5', '5 '),
    );
    const chunk = fc.tuple(chunkSize, fc.string({ maxLength: 20 })).map(([size, data]) => `${size}\r\n${data}\r\n`);
    const framing = fc.oneof(
      fc
        .tuple(fc.array(chunk, { maxLength: 4 }), fc.boolean())
        .map(([chunks, terminated]) => `Transfer-Encoding: chunked\r\n\r\n${chunks.join('')}${terminated ? '0\r\n\r\n' : ''}`),
      fc
        .tuple(fc.oneof(fc.nat(100).map(String), fc.constantFrom('abc', '-1', '1e3', '5, 6', '')), fc.string({ maxLength: 50 }))
        .map(([length, body]) => `Content-Length: ${length}\r\n\r\n${body}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST /api/v1/auth/google/token', 'POST /api/v1/auth/logout', 'GARBAGE /', 'POST /%zz'), framing, async (line, rest) => {
        const raw = await rawExchange(app.url, `${line} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${rest}`);
        if (raw === '') return; // the client gave up mid-message: nothing to answer
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
        assertCleanError(status, raw.slice(raw.indexOf('\r\n\r\n') + 4), JSON.stringify(`${line} ${rest}`.slice(0, 200)), line.split(' ')[1], codes);
      }),
      { numRuns: RAW_RUNS, seed: SEED },
    );
    expect((await app.client().get('/health/live')).status).toBe(200);
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
