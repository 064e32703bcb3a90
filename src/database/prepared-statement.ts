import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * A read on a per-request hot path, sent as a named prepared statement: PostgreSQL parses and plans
 * it once per pooled connection instead of on every request, which doubles how many of them it
 * answers (BENCHMARKS.md). It runs on the DataSource's own pool, so its timeouts and errors are the
 * ones every other query has. Only for fixed SQL text with bound parameters.
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
    const result = await pool.query<Row>({ name: this.name, text: this.text, values });
    return result.rows;
  }
}
