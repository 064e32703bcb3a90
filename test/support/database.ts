import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function baseDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the e2e global setup should have set it');
  return url;
}

/** A fresh, uniquely named database beside the base one, so suites never see each other's rows. */
export class TestDatabase {
  readonly name = `gl_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  readonly url: string;
  private pool?: pg.Pool;

  constructor() {
    const url = new URL(baseDatabaseUrl());
    url.pathname = `/${this.name}`;
    this.url = url.toString();
  }

  static async create(): Promise<TestDatabase> {
    const database = new TestDatabase();
    await database.admin((client) => client.query(`CREATE DATABASE "${database.name}"`));
    return database;
  }

  async query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.pool ??= new pg.Pool({ connectionString: this.url, max: 4 });
    return (await this.pool.query<T>(sql, params)).rows;
  }

  async drop(): Promise<void> {
    await this.pool?.end();
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
