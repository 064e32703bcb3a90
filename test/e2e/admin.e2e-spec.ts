import { FakeGoogle } from '../support/fake-google';
import { auditActions, linkGoogle, person, storedLink } from '../support/google-flows';
import { signedInUser, uniqueEmail } from '../support/sessions';
import { startTestApp, TestApp } from '../support/test-app';

describe('administration (e2e)', () => {
  let google: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    app = await startTestApp({ ...google.env(), ADMIN_EMAILS: 'chief@example.com' });
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
  });
  afterAll(async () => {
    await app?.close();
    await google?.stop();
  });

  it.each([
    ['GET', '/api/v1/admin/users'],
    ['GET', '/api/v1/admin/audit-events'],
    ['DELETE', '/api/v1/admin/users/6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f/google'],
  ])('%s %s: 401 without a session, 403 for a plain user', async (method, path) => {
    const plain = await signedInUser(app.database, uniqueEmail('plain'));

    const anonymous = await app.client().request(method, path);
    const forbidden = await app.client(plain.bearer).request(method, path);

    expect(anonymous.status).toBe(401);
    expect(anonymous.json().code).toBe('unauthenticated');
    expect(forbidden.status).toBe(403);
    expect(forbidden.json().code).toBe('forbidden');
  });

  it('unlinks another user: revoked at Google, link gone, audit names the admin', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    const ada = await person(app);
    await linkGoogle(app, google, ada);
    const link = (await storedLink(app, ada.user.id))!;

    const reply = await app.client(admin.bearer).delete(`/api/v1/admin/users/${ada.user.id}/google`);

    expect(reply.status).toBe(204);
    expect(await storedLink(app, ada.user.id)).toBeNull();
    expect(google.isLive(link.refreshToken)).toBe(false);
    expect((await auditActions(app, ada.user.id)).at(-1)).toMatchObject({ action: 'google.unlinked', actor_id: admin.user.id });
  });

  it('answers 404 user_not_found, 404 google_not_linked and 400 for a malformed id', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    const unlinked = await signedInUser(app.database, uniqueEmail('unlinked'));
    const client = app.client(admin.bearer);

    const unknown = await client.delete('/api/v1/admin/users/6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f/google');
    const notLinked = await client.delete(`/api/v1/admin/users/${unlinked.user.id}/google`);
    const malformed = await client.delete('/api/v1/admin/users/not-a-uuid/google');

    expect(unknown.status).toBe(404);
    expect(unknown.json().code).toBe('user_not_found');
    expect(notLinked.status).toBe(404);
    expect(notLinked.json().code).toBe('google_not_linked');
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('id') });
  });

  it('lists users filtered by link status, with cursor pagination and no token anywhere', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    const linked = await person(app);
    await linkGoogle(app, google, linked);
    const stored = (await storedLink(app, linked.user.id))!;
    const client = app.client(admin.bearer);

    const onlyLinked = await client.get('/api/v1/admin/users?linked=true&limit=100');
    const onlyUnlinked = await client.get('/api/v1/admin/users?linked=false&limit=100');

    expect(onlyLinked.status).toBe(200);
    expect(onlyLinked.json().items.every((user: { googleAccount: unknown }) => user.googleAccount !== null)).toBe(true);
    expect(onlyLinked.json().items.map((user: { id: string }) => user.id)).toContain(linked.user.id);
    expect(onlyUnlinked.json().items.every((user: { googleAccount: unknown }) => user.googleAccount === null)).toBe(true);
    expect(onlyUnlinked.json().items.map((user: { id: string }) => user.id)).not.toContain(linked.user.id);
    expect(onlyLinked.body).not.toContain(stored.accessToken);
    expect(onlyLinked.body).not.toContain(stored.refreshToken);
    expect(onlyLinked.body).not.toContain('v2:test1:');
  });

  it('walks every user exactly once, page by page', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    for (let index = 0; index < 5; index += 1) await signedInUser(app.database, uniqueEmail(`page${index}`));
    const client = app.client(admin.bearer);
    const [{ count }] = await app.database.query<{ count: string }>('SELECT count(*) FROM users');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (
        await client.get(`/api/v1/admin/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((user: { id: string }) => user.id));
      cursor = page.nextCursor;
    } while (cursor);

    expect(seen).toHaveLength(Number(count));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('walks the linked users exactly once, newest first, page by page (through the links index)', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    for (let index = 0; index < 3; index += 1) {
      await signedInUser(app.database, uniqueEmail(`unlinked-between${index}`));
      await linkGoogle(app, google, await person(app));
    }
    const client = app.client(admin.bearer);
    const expected = (
      await app.database.query<{ id: string }>(
        `SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM google_oauth2_users l WHERE l.user_id = u.id) ORDER BY u.created_at DESC, u.id DESC`,
      )
    ).map((row) => row.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const reply = await client.get(`/api/v1/admin/users?linked=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(reply.status).toBe(200);
      const page: { items: Array<{ id: string; googleAccount: unknown }>; nextCursor: string | null } = reply.json();
      expect(page.items.every((user) => user.googleAccount !== null)).toBe(true);
      seen.push(...page.items.map((user) => user.id));
      cursor = page.nextCursor;
    } while (cursor);

    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual(expected);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['linked=yes', 'linked'],
    ['cursor=not-a-cursor', 'cursor'],
    ['sort=email', 'sort'],
  ])('refuses ?%s with 400 invalid_request naming the field', async (query, field) => {
    const admin = await signedInUser(app.database, 'chief@example.com');

    const reply = await app.client(admin.bearer).get(`/api/v1/admin/users?${query}`);

    expect(reply.status).toBe(400);
    expect(reply.json()).toMatchObject({ statusCode: 400, code: 'invalid_request', message: expect.stringContaining(field) });
  });

  it('lists audit events for one user, newest first', async () => {
    const admin = await signedInUser(app.database, 'chief@example.com');
    const ada = await person(app);
    await linkGoogle(app, google, ada);
    await ada.browser.delete('/api/v1/users/me/google');

    const reply = await app.client(admin.bearer).get(`/api/v1/admin/audit-events?userId=${ada.user.id}`);

    expect(reply.status).toBe(200);
    const items = reply.json().items;
    expect(items.map((event: { action: string }) => event.action)).toEqual(['google.unlinked', 'google.linked']);
    expect(items[0]).toEqual({
      id: expect.any(String),
      action: 'google.unlinked',
      userId: ada.user.id,
      actorId: ada.user.id,
      googleUserId: expect.any(String),
      createdAt: expect.any(String),
    });
    expect(reply.json().nextCursor).toBeNull();
    const bad = await app.client(admin.bearer).get('/api/v1/admin/audit-events?userId=42');
    expect(bad.status).toBe(400);
  });
});
