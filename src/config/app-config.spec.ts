import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './app-config';

const KEY = 'k1:' + Buffer.alloc(32, 1).toString('base64');
const dataDir = () => mkdtempSync(join(tmpdir(), 'gl-config-'));

describe('loadConfig', () => {
  it('applies the SPEC defaults in local mode', () => {
    const config = loadConfig({ DATA_DIR: dataDir() });

    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.frontendUrl).toBe('http://localhost:3000');
    expect(config.loginFailedUrl).toBe('http://localhost:3000/users/me');
    expect(config.google.emulator).toBe(true);
    expect(config.google.callbackUrl).toBe('http://localhost:3000/api/v1/auth/google/callback');
    expect(config.google.authorizationUrl).toBe('http://localhost:3000/_emulator/google/o/oauth2/v2/auth');
    expect(config.google.linkPrompt).toBe('consent');
    expect(config.google.loginPrompt).toBe('select_account');
    expect(config.stateTtlSeconds).toBe(600);
    expect(config.sessionTtlSeconds).toBe(86400);
    expect(config.secureCookies).toBe(false);
    expect(config.authRateLimit).toBe(60);
    expect(config.googleApiRateLimit).toBe(60);
  });

  it('generates local-mode keys once, into DATA_DIR, readable only by the owner', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });

    expect(second.encryptionKeys[0].key.equals(first.encryptionKeys[0].key)).toBe(true);
    expect(statSync(join(dir, 'local-secrets.json')).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, 'local-secrets.json'), 'utf8')).toContain(first.encryptionKeys[0].id);
  });

  it('uses Google URLs and both issuer spellings with real credentials', () => {
    const config = loadConfig({ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret', ENCRYPTION_KEYS: KEY, DATA_DIR: dataDir() });

    expect(config.google.emulator).toBe(false);
    expect(config.google.tokenUrl).toBe('https://oauth2.googleapis.com/token');
    expect(config.google.issuers).toEqual(['https://accounts.google.com', 'accounts.google.com']);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be a number/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ DATABASE_POOL_MODE: 'statement' }, /DATABASE_POOL_MODE: must be one of direct, session, transaction/],
    [{ GOOGLE_LINK_PROMPT: 'always' }, /GOOGLE_LINK_PROMPT/],
    [{ GOOGLE_AUTO_CREATE_USERS: 'yes' }, /GOOGLE_AUTO_CREATE_USERS/],
    [{ STATE_TTL_SECONDS: '-5' }, /STATE_TTL_SECONDS/],
    [{ GOOGLE_API_RATE_LIMIT: '0' }, /GOOGLE_API_RATE_LIMIT/],
    [{ GOOGLE_API_RATE_LIMIT: '2.5' }, /GOOGLE_API_RATE_LIMIT/],
    [{ GOOGLE_API_RATE_LIMIT: 'many' }, /GOOGLE_API_RATE_LIMIT/],
    [{ ADMIN_EMAILS: 'root' }, /ADMIN_EMAILS/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT/],
    [{ ENCRYPTION_KEYS: 'k1:short' }, /ENCRYPTION_KEYS/],
    [{ GOOGLE_CLIENT_ID: 'id' }, /GOOGLE_CLIENT_SECRET/],
    [{ GOOGLE_CLIENT_SECRET: 'secret' }, /GOOGLE_CLIENT_ID/],
  ])('refuses %j with one line naming the variable', (env, name) => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(name);
    try {
      loadConfig({ DATA_DIR: dataDir(), ...env });
    } catch (error) {
      expect((error as Error).message.split('\n')).toHaveLength(1);
    }
  });

  it.each([
    [{ GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', ENCRYPTION_KEYS: KEY }, /DATABASE_URL/],
    [{ DATABASE_URL: 'postgres://db/x', ENCRYPTION_KEYS: KEY }, /GOOGLE_CLIENT_ID/],
    [{ DATABASE_URL: 'postgres://db/x', GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's' }, /ENCRYPTION_KEYS/],
  ])('refuses local-only parts in production: %j', (env, name) => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), ...env })).toThrow(name);
  });

  it('reads GOOGLE_API_RATE_LIMIT as a number', () => {
    expect(loadConfig({ DATA_DIR: dataDir(), GOOGLE_API_RATE_LIMIT: '3' }).googleApiRateLimit).toBe(3);
  });

  it('DATABASE_POOL_MODE names the pooler in front of DATABASE_URL; the embedded database is always direct', () => {
    const pooled = { DATABASE_URL: 'postgres://pgbouncer:6432/x', GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', ENCRYPTION_KEYS: KEY };

    expect(loadConfig({ DATA_DIR: dataDir(), ...pooled, DATABASE_POOL_MODE: 'transaction' }).databasePoolMode).toBe('transaction');
    expect(loadConfig({ DATA_DIR: dataDir(), ...pooled, DATABASE_POOL_MODE: 'session' }).databasePoolMode).toBe('session');
    expect(loadConfig({ DATA_DIR: dataDir(), DATABASE_POOL_MODE: 'transaction' }).databasePoolMode).toBe('direct');
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/x',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 's',
      ENCRYPTION_KEYS: `${KEY},k0:${Buffer.alloc(32, 2).toString('base64')}`,
      PUBLIC_URL: 'https://link.example.com',
      CORS_ORIGINS: 'https://app.example.com',
    });

    expect(config.encryptionKeys.map((key) => key.id)).toEqual(['k1', 'k0']);
    expect(config.databasePoolMode).toBe('direct');
    expect(config.secureCookies).toBe(true);
    expect(config.trustedOrigins).toEqual(['https://link.example.com', 'https://app.example.com']);
  });

  describe('local mode fails closed, internals hidden in production (issue 12)', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 's', ENCRYPTION_KEYS: KEY };

    it('refuses the emulator over a real DATABASE_URL, naming GOOGLE_CLIENT_ID, in one line', () => {
      const start = () => loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: 'postgres://db/x', ENCRYPTION_KEYS: KEY });

      expect(start).toThrow(/GOOGLE_CLIENT_ID/);
      expect(start).toThrow(/^[^\n]+$/);
    });

    it('allows it with GOOGLE_EMULATOR=true (tests), and always on the embedded database', () => {
      const tests = loadConfig({ DATA_DIR: dataDir(), DATABASE_URL: 'postgres://db/x', GOOGLE_EMULATOR: 'true' });
      const embedded = loadConfig({ DATA_DIR: dataDir() });

      expect(tests.google.emulator).toBe(true);
      expect(embedded.google.emulator).toBe(true);
    });

    it('never allows the emulator in production, GOOGLE_EMULATOR or not', () => {
      expect(() => loadConfig({ ...production, DATA_DIR: dataDir(), GOOGLE_CLIENT_ID: '', GOOGLE_CLIENT_SECRET: '', GOOGLE_EMULATOR: 'true' })).toThrow(
        /GOOGLE_CLIENT_ID/,
      );
    });

    it.each([
      [{ GOOGLE_EMULATOR: 'yes' }, /GOOGLE_EMULATOR/],
      [{ API_DOCS: 'sometimes' }, /API_DOCS/],
      [{ METRICS_TOKEN: 'two words' }, /METRICS_TOKEN/],
    ])('refuses %j naming the variable', (env, name) => {
      expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(name);
    });

    it('serves the API docs by default, but not in production unless API_DOCS=true', () => {
      expect(loadConfig({ DATA_DIR: dataDir() }).apiDocs).toBe(true);
      expect(loadConfig({ DATA_DIR: dataDir(), API_DOCS: 'false' }).apiDocs).toBe(false);
      expect(loadConfig({ ...production, DATA_DIR: dataDir() }).apiDocs).toBe(false);
      expect(loadConfig({ ...production, DATA_DIR: dataDir(), API_DOCS: 'true' }).apiDocs).toBe(true);
    });

    it('needs WEBHOOK_SECRET with WEBHOOK_URL, and a whsec_ secret', () => {
      const hook = { DATA_DIR: dataDir(), WEBHOOK_URL: 'https://app.example.com/hooks' };

      expect(() => loadConfig(hook)).toThrow('Invalid configuration: WEBHOOK_SECRET is required when WEBHOOK_URL is set');
      expect(() => loadConfig({ ...hook, WEBHOOK_SECRET: 'plain-secret' })).toThrow(/^Invalid configuration: WEBHOOK_SECRET: /);
      expect(loadConfig({ ...hook, WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).webhook).toEqual({
        url: 'https://app.example.com/hooks',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        retryDelaySeconds: 30,
        retryLimit: 12,
        local: false,
      });
      const real = { GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret', ENCRYPTION_KEYS: KEY };
      expect(loadConfig({ DATA_DIR: dataDir(), ...real }).webhook).toBeUndefined();
    });

    it('sends webhooks to the built-in receiver page in local mode when WEBHOOK_URL is unset, with a secret kept in DATA_DIR', () => {
      const dir = dataDir();
      const first = loadConfig({ DATA_DIR: dir, PORT: '3100' }).webhook;

      expect(first).toEqual({
        url: 'http://localhost:3100/_emulator/webhooks',
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        retryDelaySeconds: 30,
        retryLimit: 12,
        local: true,
      });
      expect(loadConfig({ DATA_DIR: dir, PORT: '3100' }).webhook?.secret).toBe(first?.secret);
      // A WEBHOOK_URL of one's own wins, in local mode too.
      expect(
        loadConfig({ DATA_DIR: dir, WEBHOOK_URL: 'http://127.0.0.1:9/hooks', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).webhook,
      ).toMatchObject({ local: false, url: 'http://127.0.0.1:9/hooks' });
    });

    it('adds the webhook secret to a local-secrets.json written before it existed, keeping its keys', () => {
      const dir = dataDir();
      const encryptionKeys = 'k1:' + Buffer.alloc(32, 3).toString('base64');
      writeFileSync(join(dir, 'local-secrets.json'), JSON.stringify({ encryptionKeys, emulatorClientSecret: 'kept-client-secret' }));

      const config = loadConfig({ DATA_DIR: dir });

      expect(config.encryptionKeys[0].key.equals(Buffer.alloc(32, 3))).toBe(true);
      expect(config.google.clientSecret).toBe('kept-client-secret');
      expect(JSON.parse(readFileSync(join(dir, 'local-secrets.json'), 'utf8'))).toEqual({
        encryptionKeys,
        emulatorClientSecret: 'kept-client-secret',
        webhookSecret: config.webhook?.secret,
      });
      expect(statSync(join(dir, 'local-secrets.json')).mode & 0o077).toBe(0);
    });

    it('takes shorter webhook retries as a test knob, but never ones spanning under 24 hours in production', () => {
      const hook = { WEBHOOK_URL: 'https://app.example.com/hooks', WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };

      expect(loadConfig({ DATA_DIR: dataDir(), ...hook, WEBHOOK_RETRY_LIMIT: '1', WEBHOOK_RETRY_DELAY_SECONDS: '1' }).webhook).toMatchObject({
        retryLimit: 1,
        retryDelaySeconds: 1,
      });
      expect(() => loadConfig({ ...production, DATA_DIR: dataDir(), ...hook, WEBHOOK_RETRY_LIMIT: '3' })).toThrow(
        /must retry for at least 24 hours in production/,
      );
      expect(() => loadConfig({ ...production, DATA_DIR: dataDir(), ...hook, WEBHOOK_RETRY_DELAY_SECONDS: '1' })).toThrow(/at least 24 hours/);
      expect(loadConfig({ ...production, DATA_DIR: dataDir(), ...hook }).webhook).toMatchObject({ retryLimit: 12, retryDelaySeconds: 30 });
      expect(() => loadConfig({ DATA_DIR: dataDir(), ...hook, WEBHOOK_RETRY_LIMIT: '17' })).toThrow(/^Invalid configuration: WEBHOOK_RETRY_LIMIT: /);
    });

    it('keeps METRICS_TOKEN as given', () => {
      expect(loadConfig({ DATA_DIR: dataDir() }).metricsToken).toBeUndefined();
      expect(loadConfig({ ...production, DATA_DIR: dataDir(), METRICS_TOKEN: 'scrape-me-0123456789' }).metricsToken).toBe('scrape-me-0123456789');
    });
  });
});
