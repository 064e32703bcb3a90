import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import playwright from 'playwright-core';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { storedLink } from '../support/google-flows';
import { uniqueEmail } from '../support/sessions';
import { ROOT, startTestApp, TestApp } from '../support/test-app';

// A person in a real Chromium, clicking through the users/me page and the built-in Google emulator
// (local mode: no GOOGLE_CLIENT_ID). Each step asserts what the person sees and leaves a screenshot
// in test-output/screenshots. The steps run in order, as one visit.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
const STEP_TIMEOUT_MS = 60_000;
const UI_TIMEOUT_MS = 10_000;
const DESKTOP = { width: 1024, height: 900 };
const PHONE = { width: 390, height: 844 };
const OUT_OF_OFFICE = '/api/v1/users/me/google/out-of-office';

const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';

if (!hasChromium && !inCi) {
  console.warn(`Browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

/** In CI a missing Chromium fails the suite (beforeAll throws); locally the suite is skipped with the warning above. */
const describeBrowser = hasChromium || inCi ? describe : describe.skip;

describeBrowser('the users/me page in a real browser, against the Google emulator (e2e)', () => {
  let testApp: TestApp;
  let browser: Browser;
  let page: Page;
  const email = uniqueEmail('ada');
  /** Script errors, CSP violations and failed requests nobody expected. */
  const problems: string[] = [];
  /** Failed API calls (path and status) that the current step provokes on purpose. */
  let expectedFailures: Array<{ path: string; status: number }> = [];

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`Chromium is required for the browser tests in CI and is missing at ${CHROMIUM}: apt-get install -y chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    testApp = await startTestApp(); // no GOOGLE_CLIENT_ID: local mode, the built-in emulator
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ baseURL: testApp.url, locale: 'en-US', timezoneId: 'UTC', viewport: DESKTOP });
    // Injected by the browser itself, so the page's own CSP does not apply to this listener.
    await context.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) => {
        console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' in ' + event.sourceFile + ':' + event.lineNumber);
      });`,
    });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !expected(message)) problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
  }, STEP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await testApp?.close();
  });

  afterEach(() => {
    // After every step: no script error, no CSP violation, no failed request the page did not expect.
    expect(problems.splice(0)).toEqual([]);
    expectedFailures = [];
  });

  /**
   * Chromium logs every non-2xx fetch as a console error. Expected: "who am I?" answering 401 while
   * signed out, and whatever the current step provokes.
   */
  function expected(message: ConsoleMessage): boolean {
    const failed = /status of (\d{3})/.exec(message.text());
    if (!failed) return false;
    const url = new URL(message.location().url);
    const statusCode = Number(failed[1]);
    if (url.pathname === '/api/v1/users/me' && statusCode === 401) return true;
    return expectedFailures.some((failure) => failure.path === url.pathname && failure.status === statusCode);
  }

  const screenshot = (name: string, fullPage = true) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
  const status = () => page.getByRole('status');
  const alert = () => page.getByRole('alert');
  const linkPill = () => page.locator('#link-pill');
  const signedOutHeading = () => page.getByRole('heading', { name: 'Sign in to continue' });
  const events = () => page.getByRole('list', { name: 'Upcoming out-of-office' });
  const oooSection = () => page.getByRole('region', { name: 'Upcoming out-of-office' });

  async function backOnUsersMe(): Promise<void> {
    await page.waitForURL((url) => url.pathname === '/users/me');
    await page.locator('main[aria-busy="false"]').waitFor();
  }

  /** The emulator's account chooser: type an email (and a name), then Next, to its consent screen. */
  async function chooseAccount(address: string, name?: string): Promise<void> {
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(address);
    if (name) await page.getByLabel(/^Name/).fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
  }

  /** An account already signed in at the emulator: the link's login_hint goes straight to consent, as at Google. */
  async function consentScreenFor(address: string): Promise<void> {
    await page.getByRole('heading', { name: 'google-link wants access to your Google Account' }).waitFor();
    expect(await page.locator('.account').innerText()).toBe(address);
  }

  async function click(name: string): Promise<void> {
    await page.getByRole('button', { name, exact: true }).click();
  }

  async function clickToGoogle(name: string): Promise<void> {
    await click(name);
    await page.waitForURL((url) => url.pathname.startsWith('/_emulator/google/'));
  }

  async function userId(): Promise<string> {
    const [row] = await testApp.database.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
    return row.id;
  }

  it(
    '1. signed out: offers "Sign in with Google"',
    async () => {
      await page.goto('/users/me');
      await signedOutHeading().waitFor();

      const signIn = page.getByRole('link', { name: 'Sign in with Google' });
      expect(await signIn.getAttribute('href')).toBe('/api/v1/auth/google?next=/users/me');
      expect(await page.getByRole('link', { name: 'API docs' }).getAttribute('href')).toBe('/api/docs');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      expect(await page.getByRole('main').count()).toBe(1);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Your account');
      await screenshot('1-signed-out');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '2. signs in through the emulator and shows who is signed in',
    async () => {
      await page.getByRole('link', { name: 'Sign in with Google' }).click();
      await chooseAccount(email, 'Ada Lovelace');
      await click('Allow');
      await backOnUsersMe();

      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
      const profile = await page.getByRole('region', { name: 'Signed in' }).innerText();
      expect(profile).toContain(email);
      expect(profile).toContain('Ada Lovelace');
      expect(await linkPill().innerText()).toBe('Not connected');
      await page.getByRole('button', { name: 'Connect Google account' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      expect(await oooSection().isVisible()).toBe(false);
      await screenshot('2-signed-in');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '3. connects Google: consent, a "connected" message, the granted scopes and the out-of-office events',
    async () => {
      await clickToGoogle('Connect Google account');
      await consentScreenFor(email);
      expect(await page.getByRole('checkbox', { name: /calendar/i }).isChecked()).toBe(true);
      await click('Allow');
      await backOnUsersMe();

      await status().getByText('Your Google account is connected').waitFor();
      expect(new URL(page.url()).search).toBe('');
      expect(await linkPill().innerText()).toBe('Connected');
      const details = await page.locator('#linked').innerText();
      expect(details).toContain(email);
      expect(details).toContain('See your calendar events (read-only)');
      expect(details).toContain('https://www.googleapis.com/auth/calendar.events.readonly');
      await events().waitFor();
      // The emulator's calendar: an afternoon in 3 days, a two-day trip in 10 days, a vacation in 40 days (beyond 30).
      const items = await events().getByRole('listitem').allInnerTexts();
      expect(items).toEqual([expect.stringContaining('Out of office (afternoon)'), expect.stringContaining('Conference trip')]);
      expect(items[0]).toMatch(/1:00\s*–\s*5:00\s*PM/);
      expect(items[1]).toContain('All day');
      expect(items[1]).toMatch(/ – /); // two days: the exclusive end date is not shown
      await screenshot('3-connected');

      await page.setViewportSize(PHONE);
      await screenshot('3b-connected-phone');
      await page.setViewportSize(DESKTOP);

      // A reload does not repeat the message: it was removed from the address bar.
      await page.reload();
      await backOnUsersMe();
      await events().waitFor();
      expect(await status().innerText()).toBe('');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '4. explains calendar errors and retries',
    async () => {
      expectedFailures = [
        { path: OUT_OF_OFFICE, status: 502 },
        { path: OUT_OF_OFFICE, status: 403 },
        { path: OUT_OF_OFFICE, status: 500 },
      ];
      await page.route(`**${OUT_OF_OFFICE}*`, (route) =>
        route.fulfill({ status: 502, json: { statusCode: 502, code: 'google_unavailable', message: 'Google did not answer' } }),
      );
      await page.reload();
      await backOnUsersMe();
      await oooSection().getByText('Google is not answering right now').waitFor();
      await screenshot('4-calendar-unavailable');

      await page.unroute(`**${OUT_OF_OFFICE}*`);
      await click('Try again');
      await events().waitFor();
      expect(await events().getByRole('listitem').count()).toBe(2);

      await page.route(`**${OUT_OF_OFFICE}*`, (route) =>
        route.fulfill({ status: 403, json: { statusCode: 403, code: 'missing_scopes', message: 'Missing scopes' } }),
      );
      await page.reload();
      await backOnUsersMe();
      await oooSection().getByText('Calendar access was not granted').waitFor();
      await page.getByRole('button', { name: 'Reconnect Google account' }).waitFor();
      await page.unroute(`**${OUT_OF_OFFICE}*`);

      // A key no longer configured: retrying cannot help, reconnecting does.
      await page.route(`**${OUT_OF_OFFICE}*`, (route) =>
        route.fulfill({
          status: 500,
          json: { statusCode: 500, code: 'encryption_key_missing', message: 'A stored value was encrypted with a key that is no longer configured' },
        }),
      );
      await page.reload();
      await backOnUsersMe();
      await oooSection().getByText('Reconnect your Google account', { exact: true }).waitFor();
      expect(await oooSection().innerText()).toContain('no longer configured here');
      await page.getByRole('button', { name: 'Reconnect Google account' }).waitFor();
      expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(false);
      await screenshot('4b-encryption-key-missing');
      await page.unroute(`**${OUT_OF_OFFICE}*`);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '5. after access is revoked at Google: "Reconnect", then connected again',
    async () => {
      expectedFailures = [{ path: OUT_OF_OFFICE, status: 409 }];
      const link = await storedLink(testApp, await userId());
      const revoked = await fetch(`${testApp.url}/_emulator/google/revoke?token=${encodeURIComponent(link!.refreshToken)}`, { method: 'POST' });
      expect(revoked.status).toBe(200);

      await page.reload();
      await backOnUsersMe();
      const callout = page.locator('#reauth');
      await callout.getByText('Google access expired or was revoked').waitFor();
      await callout.getByRole('button', { name: 'Reconnect' }).waitFor();
      expect(await linkPill().innerText()).toBe('Reconnect needed');
      await oooSection().getByText('Reconnect your Google account above to see your out-of-office events').waitFor();
      await screenshot('5-needs-reauth');

      await clickToGoogle('Reconnect');
      await consentScreenFor(email);
      await click('Allow');
      await backOnUsersMe();
      await status().getByText('Your Google account is connected').waitFor();
      expect(await linkPill().innerText()).toBe('Connected');
      await events().waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '6. disconnects after a confirmation, with the keyboard alone',
    async () => {
      const dialog = page.getByRole('dialog', { name: 'Disconnect your Google account?' });
      const disconnect = page.getByRole('button', { name: 'Disconnect', exact: true });

      // Escape backs out: still connected, focus back on the button.
      await disconnect.focus();
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await linkPill().innerText()).toBe('Connected');
      expect(await page.locator(':focus').getAttribute('id')).toBe('disconnect');

      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await screenshot('6a-confirm-disconnect', false);
      expect(await page.locator(':focus').innerText()).toBe('Cancel');
      await page.keyboard.press('Tab');
      expect(await page.locator(':focus').innerText()).toBe('Yes, disconnect');
      await page.keyboard.press('Enter');

      await status().getByText('Your Google account was disconnected').waitFor();
      expect(await linkPill().innerText()).toBe('Not connected');
      expect(await page.locator(':focus').innerText()).toBe('Connect Google account');
      expect(await oooSection().isVisible()).toBe(false);
      await screenshot('6-disconnected');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '7. refuses a connection without the calendar scope (granular consent)',
    async () => {
      await clickToGoogle('Connect Google account');
      await consentScreenFor(email);
      await page.getByRole('checkbox', { name: /calendar/i }).uncheck();
      await screenshot('7a-consent-calendar-unticked');
      await click('Allow');
      await backOnUsersMe();

      await alert().getByText('Your Google account was not connected').waitFor();
      expect(await alert().innerText()).toContain('Google did not grant access to your calendar');
      expect(new URL(page.url()).search).toBe('');
      expect(await linkPill().innerText()).toBe('Not connected');
      await screenshot('7-missing-scopes');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '8. says so, neutrally, when the person cancels at the consent screen',
    async () => {
      await clickToGoogle('Connect Google account');
      await consentScreenFor(email);
      await click('Cancel');
      await backOnUsersMe();

      await status().getByText('Nothing was connected', { exact: true }).waitFor();
      expect(await status().innerText()).toContain('You cancelled on Google’s consent screen');
      expect(await alert().isVisible()).toBe(false);
      expect(await linkPill().innerText()).toBe('Not connected');
      await screenshot('8-access-denied');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '9. signs out',
    async () => {
      await click('Sign out');

      await signedOutHeading().waitFor();
      await status().getByText('You have been signed out').waitFor();
      await page.getByRole('link', { name: 'Sign in with Google' }).waitFor();
      expect(await page.getByRole('region', { name: 'Signed in' }).isVisible()).toBe(false);
      await screenshot('9-signed-out');

      await page.reload();
      await signedOutHeading().waitFor();
      expect(await page.getByRole('heading', { name: 'Signed in' }).isVisible()).toBe(false);
    },
    STEP_TIMEOUT_MS,
  );

  /** Signs in from the signed-out page through the emulator's chooser and consent screen. */
  async function signInAgain(): Promise<void> {
    await page.getByRole('link', { name: 'Sign in with Google' }).click();
    await chooseAccount(email);
    await click('Allow');
    await backOnUsersMe();
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
  }

  /** Google's Cross-Account Protection, played by the emulator: a SET signed by its key, posted to the service's receiver. */
  async function googleSends(event: string): Promise<void> {
    const reply = await fetch(`${testApp.url}/_emulator/google/risc/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, event }),
    });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toMatchObject({ event, receiverStatus: 202 });
  }

  const googleNotice = () => page.locator('#google-notice');

  it(
    '10. Google asks for a password change: said while still signed in',
    async () => {
      await signInAgain();
      await clickToGoogle('Connect Google account');
      await consentScreenFor(email);
      await click('Allow');
      await backOnUsersMe();
      await events().waitFor();

      await googleSends('account-credential-change-required');
      await page.reload();
      await backOnUsersMe();

      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
      await googleNotice().getByText('Google asks you to change your Google password').waitFor();
      expect(await linkPill().innerText()).toBe('Connected');
      await screenshot('13-risc-credential-change');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '11. Google ended the sessions: after a reload, signed out and told why',
    async () => {
      await googleSends('sessions-revoked');
      await page.reload();
      await backOnUsersMe();

      await signedOutHeading().waitFor();
      await alert().getByText('You were signed out', { exact: true }).waitFor();
      const said = await alert().innerText();
      expect(said).toContain('Google told us your account’s sessions were ended');
      expect(said).toContain('Sign in again');
      expect(said).not.toContain('schemas.openid.net');
      expect(await page.getByRole('heading', { name: 'Signed in' }).isVisible()).toBe(false);
      await screenshot('14-risc-sessions-revoked');

      // A browser without that cookie is told nothing.
      const stranger = await browser.newContext({ baseURL: testApp.url });
      const elsewhere = await stranger.newPage();
      await elsewhere.goto('/users/me');
      await elsewhere.getByRole('heading', { name: 'Sign in to continue' }).waitFor();
      await elsewhere.locator('main[aria-busy="false"]').waitFor();
      expect(await elsewhere.getByRole('alert').innerText()).toBe('');
      await stranger.close();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '12. Google revoked the tokens: signed out and told why; signed in again, "Reconnect your Google account"',
    async () => {
      await signInAgain();
      await googleSends('tokens-revoked');
      await page.reload();
      await backOnUsersMe();

      await signedOutHeading().waitFor();
      const said = await alert().innerText();
      expect(said).toContain('Google told us your account’s sessions were ended');
      expect(said).toContain('reconnect your Google account');
      await screenshot('15-risc-tokens-revoked');

      await signInAgain();
      await googleNotice().getByText('reconnect your Google account', { exact: false }).waitFor();
      expect(await googleNotice().innerText()).toContain('Google told us access to your Google account was withdrawn');
      expect(await linkPill().innerText()).toBe('Reconnect needed');
      await page.locator('#reauth').getByRole('button', { name: 'Reconnect' }).waitFor();
      await oooSection().getByText('Reconnect your Google account above to see your out-of-office events').waitFor();
      await screenshot('16-risc-reconnect');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    '13. Google disabled the account: signed out, told sign-in is refused until it is enabled, and it is',
    async () => {
      await googleSends('account-disabled');
      await page.reload();
      await backOnUsersMe();

      await signedOutHeading().waitFor();
      await alert().getByText('Your Google account was disabled', { exact: true }).waitFor();
      expect(await alert().innerText()).toContain('Signing in with it is refused until Google enables it again');
      await screenshot('17-risc-account-disabled');

      await page.getByRole('link', { name: 'Sign in with Google' }).click();
      await chooseAccount(email);
      await click('Allow');
      await backOnUsersMe();
      await alert().getByText('You were not signed in').waitFor();
      expect(await alert().innerText()).toContain('Google told us this Google account is disabled');
      await signedOutHeading().waitFor();

      await googleSends('account-enabled');
      await signInAgain();
      await click('Sign out');
      await signedOutHeading().waitFor();
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'wraps a long email on the emulator’s pages at phone width',
    async () => {
      const long = `${'a-very-long-local-part'.repeat(2)}@${'subdomain.'.repeat(4)}example.com`;
      await page.setViewportSize(PHONE);
      await page.goto('/users/me');
      await page.getByRole('link', { name: 'Sign in with Google' }).click();
      await chooseAccount(long);

      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      const chip = (await page.locator('.account').boundingBox())!;
      const card = (await page.getByRole('main').boundingBox())!;
      await screenshot('11-emulator-long-email-phone');
      expect(overflow).toBe(0);
      expect(chip.x + chip.width).toBeLessThanOrEqual(card.x + card.width);
      await click('Cancel');
      await page.waitForURL((url) => url.pathname === '/users/me');
      await page.setViewportSize(DESKTOP);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'shows a readable message for sign-in failures, and a generic one for an unknown reason',
    async () => {
      await page.goto('/users/me?google_login=error&reason=domain_not_allowed');
      await alert().getByText('You were not signed in').waitFor();
      expect(await alert().innerText()).toContain('Accounts from your email domain cannot sign in here');
      expect(new URL(page.url()).search).toBe('');
      await signedOutHeading().waitFor();
      await screenshot('10-login-domain-not-allowed');

      await page.goto('/users/me?google_link=error&reason=%3Cimg%20src%3Dx%3E');
      await alert().getByText('Something went wrong while connecting your Google account').waitFor();
      expect(await page.locator('img').count()).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'lists, on the local webhook page, what the web app would have been told of this visit, each signature verified',
    async () => {
      const id = await userId();
      await page.goto('/_emulator/webhooks');
      await page.getByRole('heading', { name: 'Webhooks received' }).waitFor();
      // Deliveries run in the background: reload until the link and the unlink of steps 1 to 7 are there.
      const types = async () => page.locator('.hooks li').filter({ hasText: id }).locator('h2').allInnerTexts();
      const delivered = async () => {
        const list = await types();
        return list.includes('google.linked') && list.includes('google.unlinked');
      };
      for (let tries = 0; tries < 40 && !(await delivered()); tries++) {
        await page.waitForTimeout(250);
        await page.getByRole('link', { name: 'Reload' }).click();
        await page.getByRole('heading', { name: 'Webhooks received' }).waitFor();
      }
      const seen = await types();
      expect(seen).toEqual(expect.arrayContaining(['session.created', 'google.linked', 'google.unlinked']));
      expect(await page.locator('.hooks li').filter({ hasText: id }).getByText('Signature verified').count()).toBe(seen.length);
      expect(await page.getByText('Signature refused').count()).toBe(0);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow).toBe(0);
      await screenshot('14-local-webhooks');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "Swagger UI's Try it out on a browser-only route shows its 302, not Google's page as an undocumented 200",
    async () => {
      await page.goto('/api/docs');
      const signIn = page.locator('.opblock').filter({ has: page.locator('.opblock-summary-path[data-path="/api/v1/auth/google"]') });
      await signIn.locator('.opblock-summary').first().click();
      await signIn.getByRole('button', { name: 'Try it out' }).click();
      await signIn.getByRole('button', { name: 'Execute' }).click();
      const answer = signIn.locator('.live-responses-table');
      await answer.getByText('browser-only').waitFor();

      const shown = await answer.innerText();
      expect(shown).toMatch(/^302\s/m);
      expect(shown).not.toContain('Undocumented');
      expect(shown).not.toMatch(/<html|<!doctype/i);
      await screenshot('12-swagger-browser-only-route');
    },
    STEP_TIMEOUT_MS,
  );
});
