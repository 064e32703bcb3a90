import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectGoogleAccount, createGoogleLinkClient, GoogleLinkError, signInUrl } from '../../clients/typescript/src/index';
import type { UserView } from '../../clients/typescript/src/index';
import { FakeGoogle } from '../support/fake-google';
import { HttpClient } from '../support/http-client';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { ROOT, startTestApp, TestApp } from '../support/test-app';

const DAY = 86_400_000;
const GENERATOR = join(ROOT, 'clients/typescript/scripts/generate.mjs');

function generator(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GENERATOR, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** What a browser does for the web app: keeps the service's cookies and sends its Origin. */
function browserFetch(browser: HttpClient, origin: string) {
  return async (request: Request): Promise<Response> => {
    const headers = new Headers(request.headers);
    if (browser.cookies.size) headers.set('cookie', [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    headers.set('origin', origin);
    const response = await fetch(new Request(request, { headers }));
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair.indexOf('=');
      browser.cookies.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim());
    }
    return response;
  };
}

describe('the typed TypeScript client (clients/typescript) against the running service (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;
  const adminEmail = uniqueEmail('client-admin');

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), ADMIN_EMAILS: adminEmail });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it('has committed types that match the served OpenAPI document (else: npm run client:generate)', async () => {
    const check = await generator(['--url', app.url, '--check']);

    expect(check.output).toContain('matches the served OpenAPI document');
    expect(check.code).toBe(0);
  });

  it('the drift check fails, naming the command to run, when the types differ', async () => {
    const stale = join(mkdtempSync(join(tmpdir(), 'google-link-client-')), 'schema.d.ts');
    writeFileSync(stale, 'export interface paths {}\n');

    const check = await generator(['--url', app.url, '--check', '--out', stale]);

    expect(check.code).toBe(1);
    expect(check.output).toContain('npm run client:generate');
  });

  it('signs in by token exchange, links, reads users/me and out-of-office, unlinks, lists as admin: no hand-written type', async () => {
    const email = uniqueEmail('client', 'gmail.com');
    const browser = app.client();
    const anonymous = createGoogleLinkClient({ baseUrl: app.url });

    // Sign in: a native client's Google ID token for a session token.
    const exchanged = await anonymous.POST('/api/v1/auth/google/token', { body: { idToken: await google.signIdToken({ email }) } });
    expect(exchanged.response.status).toBe(200);
    const session = exchanged.data!;
    expect(session.tokenType).toBe('Bearer');
    const client = createGoogleLinkClient({ baseUrl: app.url, sessionToken: session.accessToken, fetch: browserFetch(browser, app.url) });

    const before = await client.GET('/api/v1/users/me');
    expect(before.data).toMatchObject({ email, role: 'user', googleAccount: null });

    // Link: the consent URL, Google's consent screen, back through the callback in the same browser.
    let consentUrl = '';
    await connectGoogleAccount(client, (url) => (consentUrl = url));
    expect(new URL(consentUrl).origin).toBe(google.url);
    const callback = await browser.get(await google.consent(consentUrl, { email }));
    expect(callback.location).toBe(`${app.url}/users/me?google_link=success`);

    const linked = await client.GET('/api/v1/users/me');
    const me: UserView = linked.data!;
    expect(me.googleAccount).toMatchObject({ email, status: 'active' });

    google.setEvents(email, [
      {
        id: 'away',
        summary: 'Away',
        start: { date: new Date(Date.now() + 3 * DAY).toISOString().slice(0, 10) },
        end: { date: new Date(Date.now() + 4 * DAY).toISOString().slice(0, 10) },
      },
    ]);
    const events = await client.GET('/api/v1/users/me/google/out-of-office', { params: { query: { to: new Date(Date.now() + 10 * DAY).toISOString() } } });
    expect(events.data?.events).toEqual([expect.objectContaining({ id: 'away', summary: 'Away', allDay: true })]);

    const admin = await signedInUser(app.database, adminEmail);
    const adminClient = createGoogleLinkClient({ baseUrl: app.url, sessionToken: () => admin.token });
    const page = await adminClient.GET('/api/v1/admin/users', { params: { query: { linked: true, limit: 100 } } });
    expect(page.data?.items.map((user) => user.email)).toContain(email);
    const audit = await adminClient.GET('/api/v1/admin/audit-events', { params: { query: { userId: me.id } } });
    expect(audit.data?.items.map((event) => event.action)).toContain('google.linked');

    const unlinked = await client.DELETE('/api/v1/users/me/google');
    expect(unlinked.response.status).toBe(204);

    // Errors are typed too: the documented body, its code among the documented ones.
    const again = await client.DELETE('/api/v1/users/me/google');
    expect(again.response.status).toBe(404);
    expect(again.error).toEqual({ statusCode: 404, code: 'google_not_linked', message: expect.any(String) });
    await expect(connectGoogleAccount(anonymous, () => undefined)).rejects.toEqual(expect.any(GoogleLinkError));
  });

  it('authenticates with the sid cookie when it has no token (same site, the browser sends its Origin)', async () => {
    const someone = await signedInUser(app.database, uniqueEmail('cookie'));
    const browser = app.client();
    browser.cookies.set('sid', someone.token);
    const client = createGoogleLinkClient({ baseUrl: app.url, fetch: browserFetch(browser, app.url) });

    const me = await client.GET('/api/v1/users/me');
    const logout = await client.POST('/api/v1/auth/logout');
    const after = await client.GET('/api/v1/users/me');

    expect(me.data?.email).toBe(someone.user.email);
    expect(logout.response.status).toBe(204);
    expect(after.error?.code).toBe('unauthenticated');
  });

  it('builds the sign-in URL for a browser navigation', () => {
    expect(signInUrl(`${app.url}/`, '/settings?tab=google')).toBe(`${app.url}/api/v1/auth/google?next=%2Fsettings%3Ftab%3Dgoogle`);
  });
});
