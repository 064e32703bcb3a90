import { runCli } from '../support/cli';
import { HttpClient } from '../support/http-client';
import { uniqueEmail } from '../support/sessions';
import { spawnService, startTestApp, TEST_ENCRYPTION_KEY, TestApp } from '../support/test-app';

describe('operator commands and start-up (e2e)', () => {
  let app: TestApp;
  const cliEnv = () => ({
    DATABASE_URL: app.database.url,
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEY,
    DATA_DIR: app.env.DATA_DIR,
    GOOGLE_CLIENT_ID: 'cli',
    GOOGLE_CLIENT_SECRET: 'cli',
  });

  beforeAll(async () => {
    app = await startTestApp({ ADMIN_EMAILS: '' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('keys:generate prints a keyId:base64 32-byte key', async () => {
    const result = await runCli(['keys:generate'], {});

    expect(result.code).toBe(0);
    const [id, key] = result.lastLine.split(':');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
  });

  it('users:create --admin then sessions:create gives a token that works as a Bearer', async () => {
    const email = uniqueEmail('operator');

    const created = await runCli(['users:create', '--email', email, '--admin'], cliEnv());
    const session = await runCli(['sessions:create', '--email', email], cliEnv());

    expect(created.code).toBe(0);
    expect(session.code).toBe(0);
    expect(session.lastLine).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await new HttpClient(app.url, { authorization: `Bearer ${session.lastLine}` }).get('/api/v1/users/me');
    expect(me.json()).toMatchObject({ email, role: 'admin' });
  });

  it('users:create promotes an existing user', async () => {
    const email = uniqueEmail('promote');
    await runCli(['users:create', '--email', email], cliEnv());

    const promoted = await runCli(['users:create', '--email', email, '--admin'], cliEnv());

    expect(promoted.stdout).toContain('role admin');
    const rows = await app.database.query<{ role: string }>('SELECT role FROM users WHERE email = $1', [email]);
    expect(rows).toEqual([{ role: 'admin' }]);
  });

  it('compares emails by ASCII-only lower-casing: a Kelvin-sign look-alike is another user, never the admin', async () => {
    const local = uniqueEmail('kim');
    const admin = local.replace(/^kim/, 'KIM').replace('example.com', 'Example.COM');
    const lookalike = local.replace(/^k/, '\u212A'); // U+212A KELVIN SIGN, which Unicode lower-cases to k

    const created = await runCli(['users:create', '--email', admin, '--admin'], cliEnv());
    const other = await runCli(['users:create', '--email', lookalike], cliEnv());
    const session = await runCli(['sessions:create', '--email', lookalike], cliEnv());

    expect(created.code).toBe(0);
    expect(other.stdout).toContain('Created user');
    expect(other.stdout).toContain('role user');
    const rows = await app.database.query<{ email: string; role: string }>('SELECT email, role FROM users WHERE email = ANY($1) ORDER BY role', [
      [local, lookalike],
    ]);
    expect(rows).toEqual([
      { email: local, role: 'admin' },
      { email: lookalike, role: 'user' },
    ]);
    const me = await new HttpClient(app.url, { authorization: `Bearer ${session.lastLine}` }).get('/api/v1/users/me');
    expect(me.json()).toMatchObject({ email: lookalike, role: 'user' });
  });

  it.each([
    [['sessions:create', '--email', 'nobody-here@example.com'], /No user with email/],
    [['users:create', '--email', 'not-an-email'], /--email/],
    [['users:create'], /--email/],
    [['teleport'], /Unknown command/],
    [['users:create', '--email', 'a@b.c', '--bogus'], /bogus/],
  ])('refuses %j with a clear message and a non-zero exit', async (args, message) => {
    const result = await runCli(args, cliEnv());

    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: must be a number'],
    [{ GOOGLE_CLIENT_ID: 'only-the-id' }, 'GOOGLE_CLIENT_SECRET'],
    [{ ENCRYPTION_KEYS: 'k1:tooshort' }, 'ENCRYPTION_KEYS'],
    [{ NODE_ENV: 'production', GOOGLE_CLIENT_ID: 'a', GOOGLE_CLIENT_SECRET: 'b', DATABASE_URL: '' }, 'DATABASE_URL'],
    // Local mode over a real database: the emulator would sign anyone in as anyone in its user table.
    [{ GOOGLE_EMULATOR: '' }, 'GOOGLE_CLIENT_ID'],
    [{ GOOGLE_EMULATOR: 'false' }, 'GOOGLE_CLIENT_ID'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY'],
  ])('refuses to start with %j, printing one line that names %s', async (env, variable) => {
    const { child, logs, exited } = spawnService({
      PATH: process.env.PATH ?? '',
      DATA_DIR: app.env.DATA_DIR,
      DATABASE_URL: app.database.url,
      GOOGLE_EMULATOR: 'true',
      ...env,
    });

    // A service that starts after all must not outlive the test: it is stopped after a while.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited.finally(() => clearTimeout(deadline));

    expect(code).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(variable);
  });
});
