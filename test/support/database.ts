import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function baseDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the e2e global setup should have set it');
  return url;
}

/** A fresh, uniquely named database beside the base one, so suites never see each other's rows. */
export class TestDatabase {
  readonly name: string;
  readonly url: string;
  private pool?: pg.Pool;

  /** `existingUrl`: a database on another server that this object only queries, never creates or drops. */
  constructor(private readonly existingUrl?: string) {
    const url = new URL(existingUrl ?? baseDatabaseUrl());
    this.name = existingUrl ? decodeURIComponent(url.pathname.slice(1)) : `gl_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    url.pathname = `/${this.name}`;
    this.url = url.toString();
  }

  /** Wraps a database someone else runs (a dedicated embedded PostgreSQL): drop() only closes the pool. */
  static at(url: string): TestDatabase {
    return new TestDatabase(url);
  }

  static async create(): Promise<TestDatabase> {
    const database = new TestDatabase();
    await database.admin((client) => client.query(`CREATE DATABASE "${database.name}"`));
    return database;
  }

  async query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.pool) {
      this.pool = new pg.Pool({ connectionString: this.url, max: 4 });
      // An idle connection cut by a database restart must not crash the test process.
      this.pool.on('error', () => undefined);
    }
    return (await this.pool.query<T>(sql, params)).rows;
  }

  async drop(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
    if (this.existingUrl) return;
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`));
  }

  private async admin(run: (client: pg.Client) => Promise<unknown>): Promise<void> {
    const client = new pg.Client({ connectionString: baseDatabaseUrl() });
    await client.connect();
    try {
      await run(client);
    } finally {
      await client.end();
    }
  }
}
