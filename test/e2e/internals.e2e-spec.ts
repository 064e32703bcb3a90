import { TestDatabase } from '../support/database';
import { FakeGoogle } from '../support/fake-google';
import { startTestApp, TestApp } from '../support/test-app';

const METRICS_TOKEN = 'scrape-4f1c9a7e2b6d8035';
const NOT_FOUND = { statusCode: 404, code: 'not_found', message: expect.any(String) };

/** SPEC "Configuration": METRICS_TOKEN and API_DOCS; production shows neither metrics nor docs unless configured to. */
describe('internals: /metrics and the API docs (e2e)', () => {
  let database: TestDatabase;
  let google: FakeGoogle;
  const apps: TestApp[] = [];
  /** Apps share one database; they start one after another so only the first runs the migrations. */
  const start = async (env: Record<string, string>) => {
    const app = await startTestApp({ ...google.env(), ...env }, database);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await TestDatabase.create();
    google = await FakeGoogle.start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await database?.drop();
    await google?.stop();
  });

  describe('with METRICS_TOKEN set', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await start({ METRICS_TOKEN });
    });

    it.each([
      ['no Authorization', {}],
      ['a wrong token', { authorization: 'Bearer scrape-4f1c9a7e2b6d8036' }],
      ['a prefix of the token', { authorization: 'Bearer scrape-4f1c' }],
      ['the token in another scheme', { authorization: `Basic ${METRICS_TOKEN}` }],
    ])('refuses a scrape with %s: 401 unauthenticated, no metrics', async (_, headers: Record<string, string>) => {
      const reply = await app.client(headers).get('/metrics');

      expect(reply.status).toBe(401);
      expect(reply.json()).toEqual({ statusCode: 401, code: 'unauthenticated', message: expect.any(String) });
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(reply.body).not.toContain('http_requests_total');
    });

    it('serves the scrape with Authorization: Bearer <METRICS_TOKEN>', async () => {
      const reply = await app.client({ authorization: `Bearer ${METRICS_TOKEN}` }).get('/metrics');

      expect(reply.status).toBe(200);
      expect(reply.body).toContain('# TYPE http_requests_total counter');
    });

    it('never writes the token to the log', () => {
      expect(app.logs.join('\n')).not.toContain(METRICS_TOKEN);
    });
  });

  describe('in production', () => {
    it('serves neither /metrics without METRICS_TOKEN nor the API docs by default', async () => {
      const app = await start({ NODE_ENV: 'production' });

      for (const path of ['/metrics', '/api/docs', '/api/docs-json', '/api/docs-yaml']) {
        const reply = await app.client().get(path);
        expect([path, reply.status]).toEqual([path, 404]);
        expect(reply.json()).toEqual(NOT_FOUND);
      }
      expect((await app.client().get('/health/ready')).status).toBe(200);
      expect(app.logs.find((line) => line.includes('listening on'))).not.toContain('API docs');
    });

    it('serves /metrics with its token and the docs with API_DOCS=true', async () => {
      const app = await start({ NODE_ENV: 'production', METRICS_TOKEN, API_DOCS: 'true' });

      const scrape = await app.client({ authorization: `Bearer ${METRICS_TOKEN}` }).get('/metrics');
      const anonymous = await app.client().get('/metrics');
      const document = await app.client().get('/api/docs-json');

      expect(scrape.status).toBe(200);
      expect(anonymous.status).toBe(401);
      expect(document.status).toBe(200);
      expect(document.json<{ openapi: string }>().openapi).toMatch(/^3\./);
    });
  });

  it('API_DOCS=false hides Swagger UI and the OpenAPI document outside production too', async () => {
    const app = await start({ API_DOCS: 'false' });

    const ui = await app.client().get('/api/docs');
    const document = await app.client().get('/api/docs-json');
    const scrape = await app.client().get('/metrics');

    expect(ui.status).toBe(404);
    expect(document.json()).toEqual(NOT_FOUND);
    expect(scrape.status).toBe(200); // no METRICS_TOKEN outside production: open, as before
  });
});
