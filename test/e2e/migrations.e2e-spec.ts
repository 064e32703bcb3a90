import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../support/cli';
import { TestDatabase } from '../support/database';
import { ROOT } from '../support/test-app';

function typeorm(args: string[], databaseUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/typeorm/cli.js'), ...args, '-d', join(ROOT, 'dist/ormconfig.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        ENCRYPTION_KEYS: 'm:' + Buffer.alloc(32).toString('base64'),
        GOOGLE_CLIENT_ID: 'x',
        GOOGLE_CLIENT_SECRET: 'y',
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('migrations (e2e, through ormconfig.ts)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await TestDatabase.create();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('run on an empty database, then match the entities exactly (no pending schema change)', async () => {
    const run = await typeorm(['migration:run'], database.url);
    const check = await typeorm(['migration:generate', '--check', '--dryrun', 'src/database/migrations/Drift'], database.url);

    expect(run.code).toBe(0);
    expect(check.output).toMatch(/No changes in database schema were found/);
    expect(check.code).toBe(0);
  });

  it('fills in user_created_at of links made before it existed', async () => {
    // Back to just before LinkUserCreatedAt, however many migrations come after it.
    let reverted = '';
    while (reverted !== 'LinkUserCreatedAt1796157867156') {
      const [newest] = await database.query<{ name: string }>('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');
      const revert = await typeorm(['migration:revert'], database.url);
      expect(revert.code).toBe(0);
      reverted = newest.name;
    }
    expect(
      await database.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'google_oauth2_users' AND column_name = 'user_created_at'`),
    ).toHaveLength(0);
    const [user] = await database.query<{ id: string }>(
      `INSERT INTO users (email, created_at) VALUES ('before@example.com', now() - interval '3 days') RETURNING id`,
    );
    await database.query(
      `INSERT INTO google_oauth2_users (user_id, google_user_id, email, access_token, refresh_token, access_token_expires_at, oauth_scope)
       VALUES ($1, 'sub-before', 'before@example.com', 'v1:x:sealed', 'v1:x:sealed', now(), 'openid')`,
      [user.id],
    );

    const run = await typeorm(['migration:run'], database.url);

    expect(run.code).toBe(0);
    const [row] = await database.query<{ same: boolean }>(
      `SELECT l.user_created_at = u.created_at AS same FROM google_oauth2_users l JOIN users u ON u.id = l.user_id WHERE u.id = $1`,
      [user.id],
    );
    expect(row.same).toBe(true);
    await database.query(`DELETE FROM users WHERE id = $1`, [user.id]);
  });

  it('revert every migration and apply them again', async () => {
    const [{ count }] = await database.query<{ count: string }>('SELECT count(*) FROM migrations');
    for (let index = 0; index < Number(count); index += 1) {
      const revert = await typeorm(['migration:revert'], database.url);
      expect(revert.code).toBe(0);
    }
    expect(await database.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'users'`)).toHaveLength(0);

    const again = await typeorm(['migration:run'], database.url);

    expect(again.code).toBe(0);
    expect(await database.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'google_oauth2_users'`)).toHaveLength(1);
  });

  it('the operator CLI (node dist/src/cli/main.js, as in the image) reverts the newest migration and applies it again', async () => {
    const env = { DATABASE_URL: database.url, ENCRYPTION_KEYS: 'm:' + Buffer.alloc(32).toString('base64'), GOOGLE_CLIENT_ID: 'x', GOOGLE_CLIENT_SECRET: 'y' };
    await runCli(['migration:run'], env);
    const [newest] = await database.query<{ name: string }>('SELECT name FROM migrations ORDER BY id DESC LIMIT 1');

    const revert = await runCli(['migration:revert'], env);
    const afterRevert = await database.query<{ name: string }>('SELECT name FROM migrations WHERE name = $1', [newest.name]);
    const run = await runCli(['migration:run'], env);
    const idle = await runCli(['migration:run'], env);

    expect(revert).toMatchObject({ code: 0, lastLine: `Reverted ${newest.name}` });
    expect(afterRevert).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Applied ${newest.name}`);
    expect(idle).toMatchObject({ code: 0, lastLine: 'No pending migrations' });
    expect(await runCli(['migration:run', '--all'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('takes no options') });
  });
});
