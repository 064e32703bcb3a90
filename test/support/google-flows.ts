import { KeyRing } from '../../src/crypto/key-ring';
import type { ConsentChoice, FakeGoogle } from './fake-google';
import type { HttpClient, Reply } from './http-client';
import { signedInUser, SignedIn, uniqueEmail } from './sessions';
import { TEST_ENCRYPTION_KEY, TestApp } from './test-app';

export const CALENDAR_EVENTS_READONLY = 'https://www.googleapis.com/auth/calendar.events.readonly';

export const testKeyRing = () => {
  const [id, key] = TEST_ENCRYPTION_KEY.split(':');
  return new KeyRing([{ id, key: Buffer.from(key, 'base64') }]);
};

/** A signed-in person in a browser: the sid cookie set, a cookie jar for the binding cookie. */
export interface Person extends SignedIn {
  browser: HttpClient;
}

export async function person(app: TestApp, email = uniqueEmail('person'), options: { admin?: boolean } = {}): Promise<Person> {
  const signedIn = await signedInUser(app.database, email, options);
  const browser = app.client({ origin: app.url });
  browser.cookies.set('sid', signedIn.token);
  return { ...signedIn, browser };
}

/** Starts a link in the person's browser and returns Google's consent URL. */
export async function startLink(someone: Person): Promise<string> {
  const reply = await someone.browser.get('/api/v1/auth/google/link');
  if (reply.status !== 200) throw new Error(`link start answered ${reply.status}: ${reply.body}`);
  return reply.json<{ url: string }>().url;
}

/** The whole round trip: start, consent at the fake Google, the callback in the same browser. */
export async function linkGoogle(app: TestApp, google: FakeGoogle, someone: Person, choice: Partial<ConsentChoice> = {}): Promise<Reply> {
  const consentUrl = await startLink(someone);
  const callbackUrl = await google.consent(consentUrl, { email: someone.user.email, ...choice });
  return someone.browser.get(callbackUrl);
}

export const linkOutcome = (reply: Reply) => {
  const location = new URL(reply.location ?? 'http://none.invalid/');
  return {
    path: location.pathname,
    link: location.searchParams.get('google_link'),
    login: location.searchParams.get('google_login'),
    reason: location.searchParams.get('reason'),
  };
};

export async function storedLink(app: TestApp, userId: string) {
  const rows = await app.database.query<{ access_token: string; refresh_token: string; google_user_id: string; oauth_scope: string; status: string }>(
    'SELECT access_token, refresh_token, google_user_id, oauth_scope, status FROM google_oauth2_users WHERE user_id = $1',
    [userId],
  );
  if (!rows[0]) return null;
  const ring = testKeyRing();
  return {
    ...rows[0],
    accessToken: ring.open(rows[0].access_token, { column: 'google_oauth2_users.access_token', owner: userId }),
    refreshToken: ring.open(rows[0].refresh_token, { column: 'google_oauth2_users.refresh_token', owner: userId }),
  };
}

export async function auditActions(app: TestApp, userId: string): Promise<Array<{ action: string; actor_id: string | null; google_user_id: string | null }>> {
  return app.database.query('SELECT action, actor_id, google_user_id FROM audit_events WHERE user_id = $1 ORDER BY created_at, id', [userId]);
}
