import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source.options';
import type { PoolMode } from '../database/pool-mode';

type MigrationCommand = (dataSource: DataSource) => Promise<void>;

/**
 * The migration commands an operator runs where there is no TypeScript (the image): the same
 * DataSource options as the service and ormconfig.ts, without booting the application (which
 * would apply pending migrations before a revert).
 */
export const MIGRATION_COMMANDS: Record<string, MigrationCommand> = {
  'migration:run': async (dataSource) => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) console.log(`Applied ${migration.name}`);
    console.log(applied.length ? `Applied ${applied.length} migration(s)` : 'No pending migrations');
  },
  'migration:revert': async (dataSource) => {
    const table = dataSource.options.migrationsTableName ?? 'migrations';
    const [newest] = await dataSource.query<Array<{ name: string }>>(`SELECT name FROM "${table}" ORDER BY id DESC LIMIT 1`);
    if (!newest) {
      console.log('No migration to revert');
      return;
    }
    await dataSource.undoLastMigration({ transaction: 'each' });
    console.log(`Reverted ${newest.name}`);
  },
};

export async function withDataSource(databaseUrl: string, poolMode: PoolMode, run: MigrationCommand): Promise<void> {
  const dataSource = await new DataSource({ ...dataSourceOptions(databaseUrl, poolMode), logging: false }).initialize();
  try {
    await run(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
