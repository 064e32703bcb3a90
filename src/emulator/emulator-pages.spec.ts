import { PendingAuthorization } from './emulator-authorization';
import { renderChooserPage, renderConsentPage, renderErrorPage } from './emulator-pages';

const XSS = '"><script>alert(1)</script>';

const pending = (overrides: Partial<PendingAuthorization['request']> = {}): PendingAuthorization => ({
  id: 'request-id',
  email: 'ada@example.com',
  expiresAt: Date.now() + 60_000,
  request: {
    clientId: 'client-1',
    appName: 'google-link',
    redirectUri: 'https://app.test/callback',
    scopes: ['openid', 'email', 'https://www.googleapis.com/auth/calendar.events.readonly'],
    codeChallenge: 'x'.repeat(43),
    offline: true,
    prompts: [],
    includeGrantedScopes: false,
    ...overrides,
  },
});

describe('emulator pages', () => {
  it('escapes every reflected value', () => {
    const pages = [
      renderChooserPage(pending({ loginHint: XSS, appName: XSS }), '/signin'),
      renderConsentPage(pending({ appName: XSS, scopes: ['openid', XSS] }), '/consent', '/signin?request=request-id'),
      renderErrorPage(XSS, XSS),
    ];

    for (const html of pages) {
      expect(html).not.toContain('<script>');
      expect(html).toContain('&#34;&#62;&#60;script&#62;');
    }
  });

  it('lists every scope: basic ones checked and disabled, the others checked and free to untick', () => {
    const html = renderConsentPage(pending(), '/consent', '/signin?request=request-id');

    expect(html).toMatch(/value="openid" checked disabled>/);
    expect(html).toMatch(/value="email" checked disabled>/);
    expect(html).toContain('value="https://www.googleapis.com/auth/calendar.events.readonly" checked>');
    expect(html).toContain('Google emulator — local mode');
  });

  it('names the app, not its client id, and offers another account on the consent screen', () => {
    const chooser = renderChooserPage(pending(), '/signin');
    const consent = renderConsentPage(pending(), '/consent', '/signin?request=request-id');

    expect(chooser).toContain('to continue to <strong>google-link</strong>');
    expect(consent).toContain('<h1>google-link wants access to your Google Account</h1>');
    expect(consent).toContain('href="/signin?request&#61;request-id">Use another account</a>');
    expect(chooser + consent).not.toContain('client-1');
  });

  it('prefills the chooser from login_hint and labels its inputs', () => {
    const html = renderChooserPage(pending({ loginHint: 'ada@example.com' }), '/signin');

    expect(html).toContain('value="ada@example.com"');
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="name">');
  });
});
