import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import playwright from 'playwright-core';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { uniqueEmail } from '../support/sessions';
import { ROOT, startTestApp, TestApp } from '../support/test-app';

// A person in a real Chromium, clicking through the users/me page and the built-in Google emulator
// (local mode: no GOOGLE_CLIENT_ID). Each step asserts what the person sees and leaves a screenshot.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
const STEP_TIMEOUT_MS = 60_000;
const UI_TIMEOUT_MS = 10_000;

const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true' || process.env.CI === '1';

if (!hasChromium && !inCi) {
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

/** In CI a missing Chromium fails the suite; locally the suite is skipped with the warning above. */
const describeBrowser = hasChromium || inCi ? describe : describe.skip;

describeBrowser('the users/me page in a real browser, against the Google emulator (e2e)', () => {
  let testApp: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const email = uniqueEmail('ada');
  const otherGoogleEmail = uniqueEmail('other');

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`Chromium is required for the browser tests in CI and is missing at ${CHROMIUM}: apt-get install -y chromium`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    testApp = await startTestApp(); // no GOOGLE_CLIENT_ID: local mode, the built-in emulator
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ baseURL: testApp.url, locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1024, height: 900 } });
    // Injected by the browser itself, so the page's own CSP does not apply to this listener.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} in ${event.sourceFile}:${event.lineNumber}`);
      });
    });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectedSignedOutCheck(message)) problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
  }, STEP_TIMEOUT_MS);

  afterAll(async () => {
    console.log(testApp?.logs.slice(-40).join('\n'));
    await browser?.close();
    await testApp?.close();
  });

  afterEach(() => {
    // Every step: no script error, no CSP violation, no failed request the page did not expect.
    expect(problems).toEqual([]);
  });

  /** Chromium logs every non-2xx fetch; the one the page expects is "who am I?" answering 401 when signed out. */
  function expectedSignedOutCheck(message: ConsoleMessage): boolean {
    return message.location().url === `${testApp.url}/api/v1/users/me` && /status of 401/.test(message.text());
  }

  const screenshot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const status = () => page.getByRole('status');
  const alert = () => page.getByRole('alert');
  const linkPill = () => page.locator('#link-pill');
  const signedOutHeading = () => page.getByRole('heading', { name: 'You are signed out' });

  async function backOnUsersMe(): Promise<void> {
    await page.waitForURL((url) => url.pathname === '/users/me');
    await page.locator('main[aria-busy="false"]').waitFor();
  }

  /** The emulator's account chooser: type an email (and a name), then Next. */
  async function chooseAccount(address: string, name?: string): Promise<void> {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(address);
    if (name) await page.getByLabel(/^Name/).fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
  }

  async function startConnecting(): Promise<void> {
    await page.getByRole('button', { name: 'Connect Google account' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/_emulator/google/'));
  }

  it('1. signed out: offers "Sign in with Google"', async () => {
    await page.goto('/users/me');
    await signedOutHeading().waitFor();

    const signIn = page.getByRole('link', { name: 'Sign in with Google' });
    expect(await signIn.getAttribute('href')).toBe('/api/v1/auth/google?next=/users/me');
    expect(await page.getByRole('link', { name: /API doc/ }).count()).toBeGreaterThan(0);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByRole('main').count()).toBe(1);
    await screenshot('1-signed-out');
  }, STEP_TIMEOUT_MS);

  it('2. signs in through the emulator and shows who is signed in', async () => {
    await page.getByRole('link', { name: 'Sign in with Google' }).click();
    await chooseAccount(email, 'Ada Lovelace');
    await page.getByRole('button', { name: 'Allow' }).click();
    await backOnUsersMe();

    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    expect(await page.locator('#profile').innerText()).toContain(email);
    expect(await page.locator('#profile').innerText()).toContain('Ada Lovelace');
    expect(await linkPill().innerText()).toBe('Not connected');
    await page.getByRole('button', { name: 'Connect Google account' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await screenshot('2-signed-in');
  }, STEP_TIMEOUT_MS);

  it('3. connects Google: consent, a "connected" message, the granted scopes and the out-of-office events', async () => {
    await startConnecting();
    await chooseAccount(email);
    expect(await page.getByRole('checkbox', { name: /calendar/i }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();
    await backOnUsersMe();

    await status().getByText('Your Google account is connected').waitFor();
    expect(new URL(page.url()).search).toBe('');
    expect(await linkPill().innerText()).toBe('Connected');
    const details = await page.locator('#linked').innerText();
    expect(details).toContain(email);
    expect(details).toContain('See your calendar events (read-only)');
    expect(details).toContain('https://www.googleapis.com/auth/calendar.events.readonly');
    await page.getByRole('list', { name: 'Upcoming out-of-office' }).waitFor();
    const events = await page.getByRole('list', { name: 'Upcoming out-of-office' }).getByRole('listitem').allInnerTexts();
    // The emulator's calendar: an afternoon in 3 days, a two-day trip in 10 days, a vacation in 40 days (outside 30).
    expect(events).toEqual([expect.stringContaining('Out of office (afternoon)'), expect.stringContaining('Conference trip')]);
    expect(events[1]).toContain('All day');
    expect(events[1]).toMatch(/ – /);
    await screenshot('3-connected');

    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot('3b-connected-phone');
    await page.setViewportSize({ width: 1024, height: 900 });

    // A reload does not repeat the message: it was removed from the address bar.
    await page.reload();
    await backOnUsersMe();
    await page.getByRole('list', { name: 'Upcoming out-of-office' }).waitFor();
    expect(await status().isVisible()).toBe(false);
  }, STEP_TIMEOUT_MS);

  it('4. refuses a connection without the calendar scope (granular consent) and keeps the existing link', async () => {
    await startConnecting();
    // Another Google account, so that no earlier grant fills in the unticked scope (include_granted_scopes).
    await chooseAccount(otherGoogleEmail);
    await page.getByRole('checkbox', { name: /calendar/i }).uncheck();
    await page.getByRole('button', { name: 'Allow' }).click();
    await backOnUsersMe();

    await alert().getByText('Your Google account was not connected').waitFor();
    expect(await alert().innerText()).toContain('Google did not grant access to your calendar');
    expect(new URL(page.url()).search).toBe('');
    expect(await linkPill().innerText()).toBe('Connected');
    expect(await page.locator('#google-email').innerText()).toBe(email);
    await screenshot('4-missing-scopes');
  }, STEP_TIMEOUT_MS);

  it('5. says so when the person cancels at the consent screen', async () => {
    await startConnecting();
    await chooseAccount(email);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await backOnUsersMe();

    await alert().getByText('Your Google account was not connected').waitFor();
    expect(await alert().innerText()).toContain('You cancelled on Google’s consent screen');
    expect(await linkPill().innerText()).toBe('Connected');
    await screenshot('5-access-denied');
  }, STEP_TIMEOUT_MS);

  it('6. disconnects after a confirmation, with the keyboard alone', async () => {
    const dialog = page.getByRole('dialog', { name: 'Disconnect your Google account?' });
    const disconnect = page.getByRole('button', { name: 'Disconnect', exact: true });

    // Escape backs out: still connected, focus back on the button.
    await disconnect.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await linkPill().innerText()).toBe('Connected');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('disconnect');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await screenshot('6a-confirm-disconnect');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, disconnect');
    await page.keyboard.press('Enter');

    await status().getByText('Your Google account was disconnected').waitFor();
    expect(await linkPill().innerText()).toBe('Not connected');
    await page.getByRole('button', { name: 'Connect Google account' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Upcoming out-of-office' }).isVisible()).toBe(false);
    await screenshot('6-disconnected');
  }, STEP_TIMEOUT_MS);

  it('7. signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();

    await signedOutHeading().waitFor();
    await status().getByText('You are signed out').waitFor();
    await page.getByRole('link', { name: 'Sign in with Google' }).waitFor();
    await screenshot('7-signed-out');

    await page.reload();
    await signedOutHeading().waitFor();
    expect(await page.getByRole('heading', { name: 'Signed in' }).isVisible()).toBe(false);
  }, STEP_TIMEOUT_MS);
});
