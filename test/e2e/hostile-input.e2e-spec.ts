import { connect, Socket } from 'node:net';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Clients that misbehave on purpose: they stall, trickle, nest, overflow and malform. Each is cut off
 * or refused with a 4xx in the `{ statusCode, code, message }` shape, and the service keeps serving.
 */

// Short so the suite runs fast; the defaults (at most 30 s) are checked in src/common/http-timeouts.spec.ts.
const LIMIT_MS = 1500;
// Generous: it catches a connection the server never closes, not a slow one.
const CLOSE_DEADLINE_MS = 12_000;

interface RawAnswer {
  closed: boolean;
  data: string;
}

function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once the server closes the socket, or at the deadline with `closed: false`. */
function untilClosed(socket: Socket, deadlineMs = CLOSE_DEADLINE_MS): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, data });
    }, deadlineMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, data });
    });
  });
}

/** Writes one byte every `everyMs` until the socket closes: slower than any real client, never idle. */
function trickle(socket: Socket, everyMs = 400): void {
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) clearInterval(timer);
    else socket.write('a');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
}

function bodyOf(raw: string): unknown {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

function expectErrorShape(status: number, body: unknown): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(body).toEqual({ statusCode: status, code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/FST_|ERR_|HPE_|node_modules|\.ts:\d+/);
}

async function rawRequest(url: string, request: string): Promise<{ status: number; body: unknown; raw: string }> {
  const socket = await openSocket(url);
  const answer = untilClosed(socket);
  socket.end(request);
  const { data } = await answer;
  return { status: statusOf(data), body: bodyOf(data), raw: data };
}

describe('time limits on every request (e2e, raw sockets, HTTP_REQUEST_TIMEOUT_MS=1500)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ HTTP_REQUEST_TIMEOUT_MS: String(LIMIT_MS) });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('cuts off a client that sends its headers, then trickles its body a byte at a time, with 408 in the error shape', async () => {
    const socket = await openSocket(app.url);
    const answer = untilClosed(socket);
    socket.write('POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"idToken":"');
    trickle(socket);

    const { closed, data } = await answer;

    expect(closed).toBe(true);
    expect(statusOf(data)).toBe(408);
    expectErrorShape(408, bodyOf(data));
    expect(bodyOf(data)).toMatchObject({ code: 'request_timeout' });
  });

  it('cuts off a client that trickles its headers, and one that sends nothing at all', async () => {
    const stalled = await openSocket(app.url);
    const stalledAnswer = untilClosed(stalled);
    stalled.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    trickle(stalled);
    const silent = await openSocket(app.url);

    const [trickled, quiet] = await Promise.all([stalledAnswer, untilClosed(silent)]);

    expect(trickled.closed).toBe(true);
    expect(quiet.closed).toBe(true);
    expect(trickled.data).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('closes an idle keep-alive connection after its answer', async () => {
    const socket = await openSocket(app.url);
    const answer = untilClosed(socket);
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');

    const { closed, data } = await answer;

    expect(statusOf(data)).toBe(200);
    expect(closed).toBe(true);
  });

  it('does not let 20 trickling clients stay connected, and answers a normal request meanwhile', async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openSocket(app.url)));
    const answers = sockets.map((socket) => untilClosed(socket));
    for (const socket of sockets) {
      socket.write('POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n');
      trickle(socket);
    }

    const normal = await app.client().get('/health/live');
    const outcomes = await Promise.all(answers);

    expect(normal.status).toBe(200);
    expect(outcomes.filter((outcome) => !outcome.closed)).toHaveLength(0);
    expect((await app.client().get('/health/live')).status).toBe(200);
  });
});

describe('hostile input: never a 500, always the error shape (e2e)', () => {
  let app: TestApp;
  let admin: { authorization: string };

  beforeAll(async () => {
    app = await startTestApp();
    admin = (await signedInUser(app.database, uniqueEmail('hostile-admin'), { admin: true })).bearer;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('still redirects sign-in to Google when `next` overflows its column once normalised (/ + 300 × é), ignoring it', async () => {
    for (const next of [`/${'é'.repeat(300)}`, `/${'%C3%A9'.repeat(300)}`, `/${'é'.repeat(80)}?${'é'.repeat(80)}#${'é'.repeat(80)}`]) {
      const reply = await app.client().get(`/api/v1/auth/google?next=${encodeURIComponent(next)}`);

      expect(reply.status).toBe(302);
      expect(reply.location).toContain('/o/oauth2/v2/auth?');
    }
  });

  it('starts a link whatever `next` it is given (the link flow takes none)', async () => {
    const { bearer } = await signedInUser(app.database, uniqueEmail('hostile-link'));

    const reply = await app.client().get(`/api/v1/auth/google/link?next=${encodeURIComponent(`/${'é'.repeat(300)}`)}`, bearer);

    expect(reply.status).toBe(200);
    expect(reply.json().url).toContain('state=');
  });

  it('refuses 3,000 levels of nested JSON with a 4xx in the error shape, on every JSON route', async () => {
    const deepArray = `${'['.repeat(3000)}${']'.repeat(3000)}`;
    const deepObject = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const bodies = [deepArray, deepObject, `{"idToken":${deepArray}}`, `{"idToken":"x","extra":${deepObject}}`];
    const routes: Array<[string, string]> = [
      ['POST', '/api/v1/auth/google/token'],
      ['POST', '/api/v1/auth/logout'],
      ['DELETE', '/api/v1/users/me/google'],
      ['POST', '/api/v1/google/risc'],
    ];
    for (const [method, path] of routes) {
      for (const rawBody of bodies) {
        const reply = await app.client(admin).request(method, path, { rawBody, headers: { 'content-type': 'application/json' } });

        expect([method, path, reply.status]).toEqual([method, path, expect.any(Number)]);
        if (path === '/api/v1/google/risc' && reply.status === 400) continue; // RFC 8935's own shape
        expectErrorShape(reply.status, reply.json());
      }
    }
  });

  it('answers 400 invalid_request for a cursor Date.parse accepts but PostgreSQL does not, on every admin list', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const createdAt of ['1', '2020', '+275760-09-13', '0000-01-01T00:00:00.000Z', '2020-01-01', 'Tue Mar 01 2022', '-000001-01-01T00:00:00.000Z']) {
      const cursor = Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
      for (const path of ['/api/v1/admin/users', '/api/v1/admin/audit-events']) {
        const reply = await app.client(admin).get(`${path}?cursor=${cursor}`);

        expect([path, createdAt, reply.status]).toEqual([path, createdAt, 400]);
        expect(reply.json()).toMatchObject({ statusCode: 400, code: 'invalid_request' });
      }
    }
  });

  it('still pages through the admin lists with the cursors it issued', async () => {
    for (let index = 0; index < 3; index += 1) await signedInUser(app.database, uniqueEmail('hostile-page'));

    const first = await app.client(admin).get('/api/v1/admin/users?limit=1');
    const second = await app.client(admin).get(`/api/v1/admin/users?limit=1&cursor=${first.json().nextCursor}`);

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.json().items[0].id).not.toBe(first.json().items[0].id);
  });

  it('answers a 300-character path parameter with a 4xx in the error shape', async () => {
    for (const path of [`/api/v1/admin/users/${'a'.repeat(300)}/google`, `/api/v1/${'é'.repeat(300)}`, `/${'a'.repeat(300)}`]) {
      const reply = await app.client(admin).request('DELETE', path);

      expectErrorShape(reply.status, reply.json());
    }
  });

  it('answers a malformed percent-encoding in the path (%zz) with 400 in the error shape', async () => {
    for (const path of ['/api/v1/admin/users/%zz/google', '/api/v1/%zz', '/%zz', '/api/v1/admin/users/%E0%A4%A/google']) {
      const reply = await app.client(admin).request('DELETE', path);

      expect([path, reply.status]).toEqual([path, 400]);
      expectErrorShape(400, reply.json());
      expect(reply.json().code).toBe('invalid_request');
    }
  });

  it('answers a malformed chunked body with 400 in the error shape', async () => {
    for (const chunks of ['zz\r\nabc\r\n0\r\n\r\n', '5\r\nabcdefgh\r\n0\r\n\r\n', '-1\r\n\r\n']) {
      const { status, body } = await rawRequest(
        app.url,
        `POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`,
      );

      expect([chunks, status]).toEqual([chunks, 400]);
      expectErrorShape(400, body);
    }
  });

  it('answers the HTTP layer\u2019s own refusals in the error shape: a bad request line, oversized headers, smuggling headers', async () => {
    const requests = [
      'GARBAGE\r\n\r\n',
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(40_000)}\r\n\r\n`,
      'POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef',
    ];
    for (const request of requests) {
      const { status, body } = await rawRequest(app.url, request);

      expectErrorShape(status, body);
    }
    expect((await app.client().get('/health/live')).status).toBe(200);
  });

  it("maps Fastify's own body refusals (FST_ERR_CTP_*) to our codes", async () => {
    const token = '/api/v1/auth/google/token';
    const cases: Array<{ headers: Record<string, string>; rawBody?: string; status: number; code: string }> = [
      { headers: { 'content-type': 'application/json' }, rawBody: '', status: 400, code: 'invalid_request' },
      { headers: { 'content-type': 'application/json' }, rawBody: '{"idToken":', status: 400, code: 'invalid_request' },
      { headers: { 'content-type': 'application/json' }, rawBody: '{"__proto__":{"admin":true}}', status: 400, code: 'invalid_request' },
      { headers: { 'content-type': 'application/json' }, rawBody: '{"constructor":{"prototype":{"admin":true}}}', status: 400, code: 'invalid_request' },
      { headers: { 'content-type': 'application/xml' }, rawBody: '<a/>', status: 415, code: 'unsupported_media_type' },
      { headers: { 'content-type': 'not a media type' }, rawBody: '{}', status: 415, code: 'unsupported_media_type' },
      { headers: { 'content-type': 'application/json' }, rawBody: JSON.stringify({ idToken: 'x'.repeat(100_000) }), status: 413, code: 'payload_too_large' },
    ];
    for (const { headers, rawBody, status, code } of cases) {
      const reply = await app.client().request('POST', token, { headers, rawBody });

      expect([headers['content-type'], rawBody?.slice(0, 40), reply.status, reply.json().code]).toEqual([
        headers['content-type'],
        rawBody?.slice(0, 40),
        status,
        code,
      ]);
      expectErrorShape(status, reply.json());
    }
  });

  it('answers a Content-Length that does not match the body with a 4xx in the error shape', async () => {
    const { status, body } = await rawRequest(
      app.url,
      'POST /api/v1/auth/google/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    );

    expectErrorShape(status, body);
  });
});
