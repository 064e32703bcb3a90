import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';

const dataDir = () => mkdtempSync(join(tmpdir(), 'gl-emulator-config-'));
const clients = (value: unknown) => ({ GOOGLE_EMULATOR_CLIENTS: JSON.stringify(value) });
const MY_APP = { clientId: 'my-app', redirectUris: ['http://localhost:5173/auth/callback'] };

describe('the emulator configuration (GOOGLE_EMULATOR_*)', () => {
  it('defaults: named google-link, issuing as itself, no further client', () => {
    const config = loadConfig({ DATA_DIR: dataDir() });

    expect(config.emulator).toEqual({
      url: 'http://localhost:3000/_emulator/google',
      issuer: 'http://localhost:3000/_emulator/google',
      appName: 'google-link',
      clients: [],
    });
    expect(config.google.issuers).toEqual(['http://localhost:3000/_emulator/google']);
  });

  it('issues as Google with GOOGLE_EMULATOR_ISSUER=google, and the service then accepts both of Google’s spellings', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), GOOGLE_EMULATOR_ISSUER: 'google', GOOGLE_EMULATOR_APP_NAME: ' Acme Portal ' });

    expect(config.emulator).toMatchObject({ issuer: 'https://accounts.google.com', appName: 'Acme Portal' });
    expect(config.google.issuers).toEqual(['https://accounts.google.com', 'accounts.google.com']);
    expect(config.google.jwksUrl).toBe('http://localhost:3000/_emulator/google/oauth2/v3/certs');
  });

  it('registers further clients: a given secret is kept, a missing one is derived from DATA_DIR and stays the same', () => {
    const dir = dataDir();
    const env = {
      DATA_DIR: dir,
      ...clients([MY_APP, { clientId: 'script', clientSecret: 'dev-secret-1', redirectUris: ['https://app.test/cb'], name: 'A script' }]),
    };

    const first = loadConfig(env).emulator!.clients;
    const again = loadConfig(env).emulator!.clients;
    const elsewhere = loadConfig({ ...env, DATA_DIR: dataDir() }).emulator!.clients;

    expect(first).toEqual([
      { clientId: 'my-app', clientSecret: expect.stringMatching(/^GOCSPX-[A-Za-z0-9_-]{28}$/), redirectUris: MY_APP.redirectUris, name: 'my-app' },
      { clientId: 'script', clientSecret: 'dev-secret-1', redirectUris: ['https://app.test/cb'], name: 'A script' },
    ]);
    expect(again[0].clientSecret).toBe(first[0].clientSecret);
    expect(elsewhere[0].clientSecret).not.toBe(first[0].clientSecret);
  });

  it('is not read with real Google credentials', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret', ...clients([MY_APP]) });

    expect(config.emulator).toBeUndefined();
  });

  it.each([
    ['not JSON', { GOOGLE_EMULATOR_CLIENTS: 'my-app=http://localhost' }, /must be JSON/],
    ['not an array', clients(MY_APP), /must be a JSON array/],
    ['an unknown field', clients([{ ...MY_APP, redirectUri: 'x' }]), /\[0\] has an unknown field "redirectUri"/],
    ['no redirect URI', clients([{ clientId: 'my-app', redirectUris: [] }]), /\[0\]\.redirectUris must list/],
    ['http on a public host', clients([{ clientId: 'my-app', redirectUris: ['http://app.test/cb'] }]), /"http:\/\/app\.test\/cb" must be https/],
    ['a fragment', clients([{ clientId: 'my-app', redirectUris: ['http://localhost:5173/cb#x'] }]), /must be https, or http on localhost/],
    ['the same id twice', clients([MY_APP, MY_APP]), /\[1\]\.clientId "my-app" is already registered/],
    ['google-link’s own id', clients([{ ...MY_APP, clientId: 'google-link-emulator.apps.googleusercontent.com' }]), /is already registered/],
    ['a short secret', clients([{ ...MY_APP, clientSecret: 'short' }]), /clientSecret must be at least 8/],
    ['a blank name', clients([{ ...MY_APP, name: ' ' }]), /name must be 1 to 100/],
    ['an issuer other than emulator or google', { GOOGLE_EMULATOR_ISSUER: 'https://evil.test' }, /GOOGLE_EMULATOR_ISSUER/],
    ['a long app name', { GOOGLE_EMULATOR_APP_NAME: 'x'.repeat(101) }, /GOOGLE_EMULATOR_APP_NAME/],
  ])('refuses %s with one line naming the variable', (_, env, message) => {
    const load = () => loadConfig({ DATA_DIR: dataDir(), ...env });

    expect(load).toThrow(message);
    expect(load).toThrow(/^Invalid configuration: GOOGLE_EMULATOR_/);
  });
});
