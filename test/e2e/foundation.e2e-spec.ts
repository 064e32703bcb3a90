import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

describe('foundation: health, errors, sessions (e2e)', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ ADMIN_EMAILS: 'boss@example.com' });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('answers liveness and readiness (the database is checked)', async () => {
    const client = testApp.client();

    const live = await client.get('/health/live');
    const ready = await client.get('/health/ready');

    expect(live.status).toBe(200);
    expect(ready.status).toBe(200);
    expect(live.json()).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    const database = { status: 'up', responseTime: expect.any(Number) };
    expect(ready.json()).toEqual({ status: 'ok', info: { database }, error: {}, details: { database } });
  });

  it('starts up in one JSON shape from the first line, without a line per module or route at info', () => {
    const lines = testApp.logs.map((line) => JSON.parse(line) as { level: unknown; time: unknown; msg: unknown; context?: string });

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => typeof line.level !== 'number' || typeof line.time !== 'number' || typeof line.msg !== 'string')).toEqual([]);
    expect(lines.filter((line) => ['InstanceLoader', 'RoutesResolver', 'RouterExplorer'].includes(line.context ?? ''))).toEqual([]);
    expect(lines.map((line) => line.msg)).toContainEqual(expect.stringMatching(/^google-link listening on /));
  });

  it('answers unknown routes with 404 not_found in the error shape', async () => {
    const reply = await testApp.client().get('/api/v1/nothing-here');

    expect(reply.status).toBe(404);
    expect(reply.json()).toEqual({ statusCode: 404, code: 'not_found', message: expect.any(String) });
  });

  it.each([
    ['no credentials', {}],
    ['an unknown bearer token', { authorization: 'Bearer ' + 'x'.repeat(43) }],
    ['a malformed Authorization header', { authorization: 'Basic abc' }],
    ['an unknown sid cookie', { cookie: 'sid=' + 'y'.repeat(43) }],
  ])('refuses users/me with %s: 401 unauthenticated', async (_, headers) => {
    const reply = await testApp.client().get('/api/v1/users/me', headers);

    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ statusCode: 401, code: 'unauthenticated' });
  });

  it('shows the signed-in user by bearer token, with no Google link yet', async () => {
    const email = uniqueEmail('ada');
    const { user, bearer } = await signedInUser(testApp.database, email.toUpperCase());

    const reply = await testApp.client(bearer).get('/api/v1/users/me');

    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ id: user.id, email, name: expect.any(String), role: 'user', googleAccount: null, notice: null });
  });

  it('answers every API operation with Cache-Control: no-store, errors included (nothing personal in a shared or browser cache)', async () => {
    const { bearer } = await signedInUser(testApp.database, uniqueEmail());
    const admin = await signedInUser(testApp.database, uniqueEmail(), { admin: true });
    const document = (await testApp.client().get('/api/docs-json')).json<{ paths: Record<string, Record<string, unknown>> }>();
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000') })),
      );
    expect(operations.length).toBeGreaterThan(10);

    const answers = await Promise.all(
      [bearer, admin.bearer, {}].flatMap((headers) =>
        operations.map(async ({ method, path }) => {
          const response = await fetch(`${testApp.url}${path}`, { method, headers: { ...headers, origin: testApp.url }, redirect: 'manual' });
          await response.arrayBuffer();
          return `${method} ${path} ${response.status} ${response.headers.get('cache-control')}`;
        }),
      ),
    );

    expect(answers.filter((answer) => !answer.endsWith(' no-store'))).toEqual([]);
  });

  it('gives ADMIN_EMAILS the admin role', async () => {
    const { bearer } = await signedInUser(testApp.database, 'Boss@Example.com');

    const reply = await testApp.client(bearer).get('/api/v1/users/me');

    expect(reply.json().role).toBe('admin');
  });

  it('stores only a hash of the session token', async () => {
    const { token, user } = await signedInUser(testApp.database, uniqueEmail());

    const rows = await testApp.database.query<{ token_hash: Buffer }>('SELECT token_hash FROM sessions WHERE user_id = $1', [user.id]);

    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash.toString('utf8')).not.toContain(token);
    expect(rows[0].token_hash.toString('hex')).not.toContain(Buffer.from(token).toString('hex'));
  });

  it('refuses an expired session', async () => {
    const { bearer, user } = await signedInUser(testApp.database, uniqueEmail());
    await testApp.database.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.id]);

    const reply = await testApp.client(bearer).get('/api/v1/users/me');

    expect(reply.status).toBe(401);
  });

  describe('the sid cookie and CSRF', () => {
    it('accepts the cookie for reads, and refuses a state change without a trusted Origin', async () => {
      const { token } = await signedInUser(testApp.database, uniqueEmail());
      const browser = testApp.client();
      browser.cookies.set('sid', token);

      const read = await browser.get('/api/v1/users/me');
      const noOrigin = await browser.post('/api/v1/auth/logout');
      const foreign = await browser.post('/api/v1/auth/logout', undefined, { origin: 'https://evil.example' });
      const foreignReferer = await browser.post('/api/v1/auth/logout', undefined, { referer: 'https://evil.example/page' });

      expect(read.status).toBe(200);
      for (const reply of [noOrigin, foreign, foreignReferer]) {
        expect(reply.status).toBe(403);
        expect(reply.json().code).toBe('csrf_rejected');
      }
      expect((await browser.get('/api/v1/users/me')).status).toBe(200);
    });

    it('signs out with a trusted Origin (or Referer): 204, cookie cleared, session revoked', async () => {
      const { token } = await signedInUser(testApp.database, uniqueEmail());
      const browser = testApp.client();
      browser.cookies.set('sid', token);

      const logout = await browser.post('/api/v1/auth/logout', undefined, { referer: `${testApp.url}/users/me` });

      expect(logout.status).toBe(204);
      expect(logout.headers.getSetCookie().join()).toMatch(/sid=;/);
      const after = await testApp.client({ authorization: `Bearer ${token}` }).get('/api/v1/users/me');
      expect(after.status).toBe(401);
    });
  });

  it('logout-all revokes every session of the user, and only theirs', async () => {
    const email = uniqueEmail();
    const first = await signedInUser(testApp.database, email);
    const second = await signedInUser(testApp.database, email);
    const other = await signedInUser(testApp.database, uniqueEmail());

    const reply = await testApp.client(first.bearer).post('/api/v1/auth/logout-all');

    expect(reply.status).toBe(204);
    expect((await testApp.client(second.bearer).get('/api/v1/users/me')).status).toBe(401);
    expect((await testApp.client(other.bearer).get('/api/v1/users/me')).status).toBe(200);
  });

  it.each([
    ['malformed JSON', '{"a":', 'application/json'],
    ['an unsupported content type', 'a=b', 'application/xml'],
  ])('answers %s with a 4xx in the error shape, never a 500', async (_, rawBody, contentType) => {
    const { bearer } = await signedInUser(testApp.database, uniqueEmail());

    const reply = await testApp.client(bearer).request('POST', '/api/v1/auth/logout', { rawBody, headers: { 'content-type': contentType } });

    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.json()).toMatchObject({ statusCode: reply.status, code: expect.any(String), message: expect.any(String) });
  });

  it('serves Swagger UI and an OpenAPI document with bearer auth', async () => {
    const client = testApp.client();

    const ui = await client.get('/api/docs');
    const document = (await client.get('/api/docs-json')).json();

    expect(ui.status).toBe(200);
    expect(ui.body).toContain('swagger');
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/v1/users/me', '/api/v1/auth/logout', '/health/ready']));
  });
});
