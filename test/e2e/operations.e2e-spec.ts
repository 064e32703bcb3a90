import { randomInt, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { RATE_LIMIT_KEY_PREFIX } from '../../src/rate-limit/redis-throttler.storage';
import { TestDatabase } from '../support/database';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { freePort, startTestApp, TestApp } from '../support/test-app';

// The machine's Redis (CI has one too), on a database of its own; keys are per client address and
// every test speaks from a random loopback address, so runs and tests never share a budget.
const REDIS_URL = 'redis://127.0.0.1:6379/13';
const LOGOUT = '/api/v1/auth/logout';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A fresh client address on loopback: the service sees it as the socket's remote address. */
const randomLoopback = () => `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(1, 255)}`;

/** One HTTP request sent from `from` (a loopback address), which fetch cannot choose. */
function send(app: TestApp, method: string, path: string, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, app.url);
    const outgoing = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, localAddress: from }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (body += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function sendTimes(times: number, request: () => Promise<Answer>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await request()).status);
  return statuses;
}

function expectRateLimited(answer: Answer): number {
  expect(answer.status).toBe(429);
  expect(JSON.parse(answer.body)).toEqual({ statusCode: 429, code: 'rate_limited', message: expect.any(String) });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  return retryAfter;
}

/** The value of one sample line of the Prometheus text; 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('operations: metrics, rate limits, security headers, CORS (e2e)', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  /** Apps share one database; they start one after another so only the first runs the migrations. */
  const start = async (env: Record<string, string>) => {
    const app = await startTestApp(env, database);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    database = await TestDatabase.create();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await database.drop();
  });

  describe('GET /metrics, security headers and CORS', () => {
    const webApp = 'https://app.example.com';
    let app: TestApp;

    beforeAll(async () => {
      app = await start({ CORS_ORIGINS: webApp });
    });

    it('serves Prometheus text, counting requests by route template, 404s and guard refusals included', async () => {
      const client = app.client();
      const id = randomUUID();
      const before = (await client.get('/metrics')).body;

      await client.delete(`/api/v1/admin/users/${id}/google?secret=hunter2`);
      await client.delete(`/api/v1/admin/users/${randomUUID()}/google`);
      await client.get(`/no-such-route/${id}?q=hunter2`);
      await client.get('/health/live');
      const scrape = await client.get('/metrics');
      const after = scrape.body;

      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const admin = 'http_requests_total{method="DELETE",route="/api/v1/admin/users/:id/google",status_code="401"}';
      const unmatched = 'http_requests_total{method="GET",route="unmatched",status_code="404"}';
      const live = 'http_requests_total{method="GET",route="/health/live",status_code="200"}';
      expect(sample(after, admin) - sample(before, admin)).toBe(2);
      expect(sample(after, unmatched) - sample(before, unmatched)).toBe(1);
      expect(sample(after, live) - sample(before, live)).toBe(1);
      expect(sample(after, 'http_request_duration_seconds_count{method="GET",route="/health/live"}')).toBeGreaterThanOrEqual(1);
      expect(after).not.toContain(id);
      expect(after).not.toContain('hunter2');
      expect(after).not.toContain('no-such-route');
    });

    it('exposes the Google, outcome and process metric families, and is public and kept out of the API docs', async () => {
      const client = app.client();

      const text = (await client.get('/metrics')).body;
      const document = (await client.get('/api/docs-json')).json();

      for (const family of [
        'google_api_request_duration_seconds',
        'google_api_errors_total',
        'google_link_outcomes_total',
        'google_login_outcomes_total',
        'google_token_refreshes_total',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(text).toContain(`# TYPE ${family} `);
      }
      expect(Object.keys(document.paths)).not.toContain('/metrics');
    });

    it('sends security headers, with a CSP that allows only same-origin scripts', async () => {
      const reply = await app.client().get('/api/v1/users/me');
      const csp = reply.headers.get('content-security-policy') ?? '';

      expect(reply.status).toBe(401);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toContain('upgrade-insecure-requests'); // plain-http local mode
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      expect(reply.headers.get('x-frame-options')).toBe('DENY');
      expect(reply.headers.get('referrer-policy')).toBe('no-referrer');
      expect(reply.headers.get('strict-transport-security')).toBeNull(); // only when PUBLIC_URL is https
    });

    it('still serves Swagger UI, whose scripts are same-origin files the CSP allows', async () => {
      const client = app.client();

      const ui = await client.get('/api/docs');
      const scripts = [...ui.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      const init = await client.get('/api/docs/swagger-ui-init.js');

      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, inline] of scripts) {
        expect(attributes).toMatch(/src="[^"]+"/);
        expect(inline.trim()).toBe('');
      }
      expect(init.status).toBe(200);
    });

    it('answers a CORS preflight from a CORS_ORIGINS origin with credentials allowed', async () => {
      const preflight = await app.client().request('OPTIONS', '/api/v1/users/me/google', {
        headers: { origin: webApp, 'access-control-request-method': 'DELETE' },
      });
      const actual = await app.client({ origin: webApp }).get('/api/v1/users/me');

      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(webApp);
      expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
      expect(actual.headers.get('access-control-allow-origin')).toBe(webApp);
    });

    it('gives no CORS grant to any other origin', async () => {
      const preflight = await app.client().request('OPTIONS', '/api/v1/users/me/google', {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
      });
      const actual = await app.client({ origin: 'https://evil.example' }).get('/api/v1/users/me');

      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(actual.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('rate limits on /api/v1/auth/* (AUTH_RATE_LIMIT=3, TRUST_PROXY=false)', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await start({ AUTH_RATE_LIMIT: '3' });
    });

    it('answers the 4th auth request in a minute from one address with 429 rate_limited and Retry-After, refusals (401) included', async () => {
      const from = randomLoopback();

      const first = await sendTimes(3, () => send(app, 'POST', LOGOUT, from));
      const fourth = await send(app, 'POST', LOGOUT, from);

      expect(first).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
    });

    it('gives Retry-After as the real seconds left, not a fixed value', async () => {
      const from = randomLoopback();
      await sendTimes(3, () => send(app, 'POST', LOGOUT, from));

      const blocked = expectRateLimited(await send(app, 'POST', LOGOUT, from));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const later = expectRateLimited(await send(app, 'POST', LOGOUT, from));

      expect(later).toBeLessThan(blocked);
    });

    it('counts one budget per address across all auth routes, and each address has its own', async () => {
      const from = randomLoopback();
      await sendTimes(3, () => send(app, 'POST', LOGOUT, from));

      const otherAuthRoute = await send(app, 'GET', '/api/v1/auth/google', from);
      const otherAddress = await send(app, 'POST', LOGOUT, randomLoopback());

      expectRateLimited(otherAuthRoute);
      expect(otherAddress.status).toBe(401);
    });

    it('leaves health, metrics, the rest of the API and the Google emulator alone', async () => {
      const from = randomLoopback();
      const { bearer } = await signedInUser(app.database, uniqueEmail());
      await sendTimes(4, () => send(app, 'POST', LOGOUT, from));

      const statuses = await Promise.all(
        [
          () => send(app, 'GET', '/health/live', from),
          () => send(app, 'GET', '/metrics', from),
          () => send(app, 'GET', '/api/v1/users/me', from, bearer),
          () => send(app, 'GET', '/api/v1/users/me', from),
          () => send(app, 'GET', '/_emulator/google/oauth2/v3/certs', from),
        ].map((request) => sendTimes(5, request)),
      );

      expect(statuses).toEqual([Array(5).fill(200), Array(5).fill(200), Array(5).fill(200), Array(5).fill(401), Array(5).fill(200)]);
    });

    it("ignores X-Forwarded-For: forged addresses share the socket address's budget", async () => {
      const from = randomLoopback();

      const first = await sendTimes(3, () => send(app, 'POST', LOGOUT, from, { 'x-forwarded-for': randomLoopback() }));
      const fourth = await send(app, 'POST', LOGOUT, from, { 'x-forwarded-for': randomLoopback() });

      expect(first).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
    });
  });

  describe('behind a load balancer (TRUST_PROXY=true)', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await start({ AUTH_RATE_LIMIT: '3', TRUST_PROXY: 'true' });
    });

    it('counts per X-Forwarded-For client address, so clients behind one proxy get separate budgets', async () => {
      const proxy = randomLoopback();
      const alice = { 'x-forwarded-for': '198.51.100.7' };
      const bob = { 'x-forwarded-for': '198.51.100.8' };

      const aliceFirst = await sendTimes(3, () => send(app, 'POST', LOGOUT, proxy, alice));
      const aliceFourth = await send(app, 'POST', LOGOUT, proxy, alice);
      const bobFirst = await send(app, 'POST', LOGOUT, proxy, bob);

      expect(aliceFirst).toEqual([401, 401, 401]);
      expectRateLimited(aliceFourth);
      expect(bobFirst.status).toBe(401);
    });

    it('believes only the entry the balancer appended: a client prepending forged X-Forwarded-For entries is still limited', async () => {
      const balancer = randomLoopback();
      // What a load balancer forwards for a client that wrote its own X-Forwarded-For: the forged
      // entries, then the client's real address, appended by the balancer.
      const forged = () => ({ 'x-forwarded-for': `${randomLoopback()}, 10.${randomInt(0, 255)}.0.1, 203.0.113.9` });

      const first = await sendTimes(3, () => send(app, 'POST', LOGOUT, balancer, forged()));
      const fourth = await send(app, 'POST', LOGOUT, balancer, forged());

      expect(first).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
    });
  });

  describe('behind a balancer named by address (TRUST_PROXY=127.0.0.0/8)', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await start({ AUTH_RATE_LIMIT: '3', TRUST_PROXY: '127.0.0.0/8' });
    });

    it('walks X-Forwarded-For from the right past trusted proxies only: forged entries beyond the first untrusted address are ignored', async () => {
      const forged = () => ({ 'x-forwarded-for': `198.51.100.${randomInt(1, 255)}, 203.0.113.10, 127.0.0.2` });

      const first = await sendTimes(3, () => send(app, 'POST', LOGOUT, randomLoopback(), forged()));
      const fourth = await send(app, 'POST', LOGOUT, randomLoopback(), forged());

      expect(first).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
    });
  });

  describe('with REDIS_URL: counters shared between instances', () => {
    let first: TestApp;
    let second: TestApp;
    const addresses: string[] = [];
    const from = () => {
      const address = randomLoopback();
      addresses.push(address);
      return address;
    };

    beforeAll(async () => {
      first = await start({ AUTH_RATE_LIMIT: '3', REDIS_URL });
      second = await start({ AUTH_RATE_LIMIT: '3', REDIS_URL });
    });
    afterAll(async () => {
      const redis = new Redis(REDIS_URL);
      await redis.del(...addresses.map((address) => `${RATE_LIMIT_KEY_PREFIX}auth:${address}`));
      await redis.quit();
    });

    it('spends one budget on both instances: 2 requests to one and 2 to the other, the 4th is refused', async () => {
      const address = from();

      const statuses = [
        (await send(first, 'POST', LOGOUT, address)).status,
        (await send(second, 'POST', LOGOUT, address)).status,
        (await send(first, 'POST', LOGOUT, address)).status,
      ];
      const fourth = await send(second, 'POST', LOGOUT, address);

      expect(statuses).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
      expect((await send(first, 'POST', LOGOUT, address)).status).toBe(429);
    });

    it('keeps the budgets of different addresses apart', async () => {
      const spent = from();
      await sendTimes(4, () => send(first, 'POST', LOGOUT, spent));

      const fresh = await send(second, 'POST', LOGOUT, from());

      expect(fresh.status).toBe(401);
    });
  });

  describe('with REDIS_URL unreachable', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await start({ AUTH_RATE_LIMIT: '3', REDIS_URL: `redis://127.0.0.1:${await freePort()}/0` });
    });

    it('keeps serving (never a 500), warns once, and limits on this instance alone', async () => {
      const address = randomLoopback();

      const statuses = await sendTimes(3, () => send(app, 'POST', LOGOUT, address));
      const fourth = await send(app, 'POST', LOGOUT, address);
      const health = await send(app, 'GET', '/health/ready', address);

      expect(statuses).toEqual([401, 401, 401]);
      expectRateLimited(fourth);
      expect(health.status).toBe(200);
      expect(app.logs.filter((line) => line.includes('Redis unavailable'))).toHaveLength(1);
    });
  });
});
