import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source.options';
import { EmbeddedDatabase } from './src/database/embedded-postgres';

/**
 * The DataSource the TypeORM CLI uses (`npm run migration:run`, `npm run migration:generate -- Name`):
 * DATABASE_URL when set, else the embedded database of a service running from the same DATA_DIR.
 */
const config = loadConfig();
const url = config.databaseUrl ?? EmbeddedDatabase.runningUrl(config.dataDir);
if (!url) {
  console.error('DATABASE_URL is not set and no embedded database is running: set DATABASE_URL, or start the service (npm start) first');
  process.exit(1);
}

export default new DataSource(dataSourceOptions(url, config.databasePoolMode));
