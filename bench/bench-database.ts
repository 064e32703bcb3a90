import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../src/database/embedded-postgres';
import { TestDatabase } from '../test/support/database';
import type { LinkTask } from './link-driver';

/** A fresh database for one run: beside DATABASE_URL's when set, else in an embedded PostgreSQL. */
export class BenchDatabase {
  private constructor(
    readonly database: TestDatabase,
    readonly serverVersion: string,
    readonly embedded: boolean,
    private readonly embeddedServer?: EmbeddedDatabase,
  ) {}

  static async open(): Promise<BenchDatabase> {
    let embeddedServer: EmbeddedDatabase | undefined;
    if (!process.env.DATABASE_URL) {
      embeddedServer = new EmbeddedDatabase(mkdtempSync(join(tmpdir(), 'google-link-bench-pg-')));
      // TestDatabase creates its databases beside the one DATABASE_URL names.
      process.env.DATABASE_URL = await embeddedServer.start();
    }
    const database = await TestDatabase.create();
    const [{ server_version: version }] = await database.query<{ server_version: string }>('SHOW server_version');
    return new BenchDatabase(database, version, embeddedServer !== undefined, embeddedServer);
  }

  get url(): string {
    return this.database.url;
  }

  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.database.query<T>(sql, params);
  }

  /**
   * Signed-in users, written straight into the tables (as `sessions:create` would): `count` users
   * named `<prefix>-<n>@bench.example`, each with a one-day Bearer session.
   */
  async signedInUsers(prefix: string, count: number): Promise<LinkTask[]> {
    const tasks = Array.from({ length: count }, (_, n) => ({ email: `${prefix}-${n}@bench.example`, token: randomBytes(32).toString('base64url') }));
    for (let offset = 0; offset < tasks.length; offset += 5000) {
      const batch = tasks.slice(offset, offset + 5000);
      await this.query(
        `WITH input AS (SELECT * FROM unnest($1::text[], $2::bytea[]) AS t(email, token_hash)),
              created AS (INSERT INTO users (email, name) SELECT email, split_part(email, '@', 1) FROM input RETURNING id, email)
         INSERT INTO sessions (token_hash, user_id, expires_at)
         SELECT input.token_hash, created.id, now() + interval '1 day' FROM created JOIN input USING (email)`,
        [batch.map((task) => task.email), batch.map((task) => createHash('sha256').update(task.token).digest())],
      );
    }
    return tasks;
  }

  async close(): Promise<void> {
    await this.database.drop();
    await this.embeddedServer?.stop();
  }
}
