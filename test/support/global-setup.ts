import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../../src/database/embedded-postgres';

/** With no DATABASE_URL, the suite runs against an embedded PostgreSQL, as `npm start` does. */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const embedded = new EmbeddedDatabase(mkdtempSync(join(tmpdir(), 'google-link-test-')));
  process.env.DATABASE_URL = await embedded.start();
  (globalThis as { __embeddedDatabase?: EmbeddedDatabase }).__embeddedDatabase = embedded;
}
