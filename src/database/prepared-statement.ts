import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PoolExtra } from './data-source.options';

/**
 * A read on a per-request hot path, sent as a named prepared statement: PostgreSQL parses and plans
 * it once per pooled connection instead of on every request, which doubles how many of them it
 * answers (BENCHMARKS.md). It runs on the DataSource's own pool, so its timeouts and errors are the
 * ones every other query has. Only for fixed SQL text with bound parameters.
 *
 * Behind a transaction pooler (DATABASE_POOL_MODE=transaction) the statement is sent unnamed:
 * PgBouncer 1.18 hands each transaction any server connection, where a name prepared on another is
 * unknown (or already taken: `prepared statement "…" already exists`).
 */
export class PreparedStatement<Row extends QueryResultRow> {
  constructor(
    private readonly name: string,
    private readonly text: string,
  ) {}

  async rows(dataSource: DataSource, values: unknown[]): Promise<Row[]> {
    // Through TypeORM's logger like its own queries, so query logging (and the bench's plans) see it.
    dataSource.logger.logQuery(this.text, values);
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    const named = (dataSource.options.extra as PoolExtra | undefined)?.namedStatements !== false;
    const result = await pool.query<Row>(named ? { name: this.name, text: this.text, values } : { text: this.text, values });
    return result.rows;
  }
}
