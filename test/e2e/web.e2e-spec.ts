import { startTestApp, TestApp } from '../support/test-app';

describe('the users/me page over HTTP (e2e)', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });
  afterAll(async () => {
    await testApp?.close();
  });

  it('serves the page as HTML that is never cached', async () => {
    const reply = await testApp.client().get('/users/me');

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toMatch(/^<!doctype html>/i);
    expect(reply.body).toContain('<html lang="en">');
  });

  it('keeps the page within a strict content security policy: no inline script, style or handler', async () => {
    const reply = await testApp.client().get('/users/me');
    const csp = reply.headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';

    expect(scriptSrc.trim()).toBe("'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(reply.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
    expect(reply.body).not.toMatch(/<style/i);
    expect(reply.body).not.toMatch(/\son[a-z]+\s*=/i);
    expect(reply.body).not.toMatch(/\sstyle\s*=/i);
  });

  it.each([
    ['/assets/users-me.css', 'text/css; charset=utf-8'],
    ['/assets/users-me.js', 'text/javascript; charset=utf-8'],
    ['/assets/favicon.svg', 'image/svg+xml'],
  ])('serves %s as %s, cacheable for a short while', async (path, contentType) => {
    const reply = await testApp.client().get(path);

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe(contentType);
    expect(reply.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.body.length).toBeGreaterThan(0);
  });

  it('links only to assets it serves', async () => {
    const page = await testApp.client().get('/users/me');
    const references = [...page.body.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((match) => match[1]);

    expect(references.length).toBeGreaterThanOrEqual(3);
    for (const reference of references) {
      expect({ reference, status: (await testApp.client().get(reference)).status }).toEqual({ reference, status: 200 });
    }
  });

  it.each(['/assets/nothing.js', '/assets/..%2Fusers-me.html', '/assets/..%2F..%2Fpackage.json', '/users-me.html'])(
    'answers %s with 404 not_found: nothing else under public/ is reachable',
    async (path) => {
      const reply = await testApp.client().get(path);

      expect(reply.status).toBe(404);
      expect(reply.json()).toMatchObject({ statusCode: 404, code: 'not_found' });
    },
  );

  it('is not served when FRONTEND_URL is another origin: the web app there owns /users/me', async () => {
    const elsewhere = await startTestApp({ FRONTEND_URL: 'http://app.example' }, testApp.database);
    try {
      const page = await elsewhere.client().get('/users/me');
      const asset = await elsewhere.client().get('/assets/users-me.js');

      expect(page.status).toBe(404);
      expect(page.json()).toMatchObject({ code: 'not_found' });
      expect(asset.status).toBe(404);
    } finally {
      await elsewhere.stop();
    }
  });
});
