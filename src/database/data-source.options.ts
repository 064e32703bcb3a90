import type { DataSourceOptions } from 'typeorm';
import { DatabaseLogger } from './database.logger';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { namedStatementsAllowed, PoolMode, STATEMENT_TIMEOUT_MS } from './pool-mode';
import { TransactionTimeoutSubscriber } from './transaction-timeout.subscriber';

/** What prepared-statement.ts reads back from the options: how it may send its statements. */
export interface PoolExtra {
  namedStatements: boolean;
}

/**
 * The single DataSource configuration: used by the app and by ormconfig.ts for the migration
 * commands. `poolMode` (DATABASE_POOL_MODE) says whether a connection pooler stands in between.
 */
export function dataSourceOptions(url: string, poolMode: PoolMode = 'direct'): DataSourceOptions {
  const direct = poolMode === 'direct';
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    applicationName: 'google-link',
    // Never TypeORM's own loggers: they print failed and slow statements with their parameters.
    logging: false,
    logger: new DatabaseLogger(),
    subscribers: direct ? [] : [TransactionTimeoutSubscriber],
    extra: {
      max: 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      // A startup parameter: PostgreSQL takes it, PgBouncer refuses it (see TransactionTimeoutSubscriber).
      ...(direct ? { statement_timeout: STATEMENT_TIMEOUT_MS } : {}),
      // A frozen (not stopped) server must not hang a request: give up a little after the server would.
      query_timeout: STATEMENT_TIMEOUT_MS + 5000,
      namedStatements: namedStatementsAllowed(poolMode),
    } satisfies PoolExtra & Record<string, unknown>,
  };
}
