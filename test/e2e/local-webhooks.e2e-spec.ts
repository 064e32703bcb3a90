import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { EMULATOR_PATH } from '../../src/config/app-config';
import { eventually } from '../support/deadline';
import { person, Person, startLink } from '../support/google-flows';
import type { Reply } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';

const CALENDAR = 'https://www.googleapis.com/auth/calendar.events.readonly';
const PAGE = '/_emulator/webhooks';

interface Received {
  id: string | null;
  delivery: number;
  type: string | null;
  data: { userId?: string; googleUserId?: string | null; status?: string | null } | null;
  verified: boolean;
  problem?: string;
}

const requestIdIn = (html: string) => /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
const form = (fields: Array<[string, string]>) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});

/** Start → the emulator's chooser → consent (Allow) → the callback, all in the person's browser, as after `npm start`. */
async function linkThroughEmulator(someone: Person): Promise<Reply> {
  const consentUrl = new URL(await startLink(someone));
  const chooser = await someone.browser.get(`${consentUrl.pathname}${consentUrl.search}`);
  const chosen = await someone.browser.request(
    'POST',
    `${EMULATOR_PATH}/signin`,
    form([
      ['request', requestIdIn(chooser.body)],
      ['email', someone.user.email],
    ]),
  );
  const consentPage = await someone.browser.get(chosen.location!);
  const decided = await someone.browser.request(
    'POST',
    `${EMULATOR_PATH}/consent`,
    form([
      ['request', requestIdIn(consentPage.body)],
      ['action', 'allow'],
      ['scope', CALENDAR],
    ]),
  );
  return someone.browser.get(decided.location!);
}

/**
 * Local mode with no WEBHOOK_URL (SPEC "Webhooks"; issue: "the local mode shows it"): the service
 * delivers its webhooks to a receiver of its own, which verifies them as a web app would and lists
 * them on a page, so a person running `npm start` sees what their app would be told.
 */
describe('the local webhook receiver page (local mode, e2e)', () => {
  let app: TestApp;
  let secret: string;

  const received = async () => (await app.client().get(`${PAGE}/received`)).json<{ local: boolean; deliveries: Received[] }>();

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_RETRY_DELAY_SECONDS: '1' });
    secret = (JSON.parse(readFileSync(join(app.env.DATA_DIR, 'local-secrets.json'), 'utf8')) as { webhookSecret: string }).webhookSecret;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('receives, verified, every event of a link and an unlink, and names them on the page', async () => {
    const ada = await person(app);
    expect((await linkThroughEmulator(ada)).location).toBe(`${app.url}/users/me?google_link=success`);
    expect((await ada.browser.delete('/api/v1/users/me/google')).status).toBe(204);

    const mine = async () => (await received()).deliveries.filter((hook) => hook.data?.userId === ada.user.id);
    expect(await eventually(async () => (await mine()).length >= 2)).toBe(true);
    const hooks = await mine();
    expect(hooks.map((hook) => hook.type).sort()).toEqual(['google.linked', 'google.unlinked']);
    expect(hooks.every((hook) => hook.verified && hook.delivery === 1)).toBe(true);
    expect(hooks.find((hook) => hook.type === 'google.linked')?.data).toEqual({ userId: ada.user.id, googleUserId: expect.any(String), status: 'active' });
    expect(hooks.find((hook) => hook.type === 'google.unlinked')?.data?.status).toBeNull();
    const [event] = await app.database.query<{ id: string }>("SELECT id FROM audit_events WHERE user_id = $1 AND action = 'google.linked'", [ada.user.id]);
    expect(hooks.find((hook) => hook.type === 'google.linked')?.id).toBe(event.id);

    const page = await app.client().get(PAGE);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.body).toContain('<h2>google.linked</h2>');
    expect(page.body).toContain('<h2>google.unlinked</h2>');
    expect(page.body).toContain('Signature verified');
    expect(page.body).toContain(ada.user.id);
  });

  it('refuses (400) a delivery whose signature does not verify, and shows it refused', async () => {
    const body = JSON.stringify({ type: 'google.linked', id: 'forged-1', timestamp: new Date().toISOString(), data: { userId: 'someone' } });
    const forger = new Webhook(`whsec_${Buffer.alloc(32, 9).toString('base64')}`);
    const headers = { 'content-type': 'application/json', 'webhook-id': 'forged-1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };

    const forged = await app
      .client()
      .request('POST', PAGE, { rawBody: body, headers: { ...headers, 'webhook-signature': forger.sign('forged-1', new Date(), body) } });
    // Signed with the right secret but over another body: the check is over the bytes as sent.
    const tampered = await app.client().request('POST', PAGE, {
      rawBody: body.replace('someone', 'someone-else'),
      headers: { ...headers, 'webhook-signature': new Webhook(secret).sign('forged-1', new Date(), body) },
    });
    const unsigned = await app.client().request('POST', PAGE, { rawBody: body, headers: { 'content-type': 'application/json' } });

    for (const reply of [forged, tampered, unsigned]) {
      expect(reply.status).toBe(400);
      expect(reply.json()).toEqual({
        statusCode: 400,
        code: 'invalid_signature',
        message: expect.stringMatching(/^The Standard Webhooks signature did not verify/),
      });
    }
    const [latest] = (await received()).deliveries;
    expect(latest).toMatchObject({ verified: false, type: null, data: null, problem: 'Missing required headers' });
    expect((await app.client().get(PAGE)).body).toContain('Signature refused (answered 400)');
  });

  it('verifies with the secret kept in DATA_DIR, and counts a redelivery of the same webhook-id', async () => {
    const body = JSON.stringify({ type: 'google.linked', id: 'by-hand-1', timestamp: new Date().toISOString(), data: { userId: 'by-hand' } });
    const send = () =>
      app.client().request('POST', PAGE, {
        rawBody: body,
        headers: { 'content-type': 'application/json', ...signedHeaders(secret, 'by-hand-1', body) },
      });

    expect((await send()).status).toBe(204);
    expect((await send()).status).toBe(204);
    const [latest] = (await received()).deliveries;
    expect(latest).toMatchObject({ id: 'by-hand-1', verified: true, delivery: 2, type: 'google.linked' });
  });

  it('never shows or logs the signing secret, and tells where the page is as it starts', async () => {
    const page = await app.client().get(PAGE);
    const json = await app.client().get(`${PAGE}/received`);
    const key = secret.slice('whsec_'.length);

    expect(page.body).not.toContain(key);
    expect(json.body).not.toContain(key);
    expect(app.logs.join('\n')).not.toContain(key);
    expect(app.logs.some((line) => line.includes(`see them at ${app.url}${PAGE}`))).toBe(true);
  });
});

describe('the local webhook receiver with a WEBHOOK_URL of one’s own (local mode, e2e)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_URL: 'http://127.0.0.1:9/hooks?token=do-not-show', WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 4).toString('base64')}` });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('says where webhooks go (the origin only) and takes none itself', async () => {
    const page = await app.client().get(PAGE);
    const post = await app.client().post(PAGE, { type: 'google.linked' });

    expect(page.body).toContain('Webhooks go to your <code class="inline">WEBHOOK_URL</code> (http://127.0.0.1:9), not here.');
    expect(page.body).not.toContain('do-not-show');
    expect(post.status).toBe(404);
    expect((await app.client().get(`${PAGE}/received`)).json()).toEqual({ local: false, deliveries: [] });
  });
});

function signedHeaders(secret: string, id: string, body: string): Record<string, string> {
  const at = new Date();
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
}
