import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseDatabaseUrl } from './database';
import { freePort, ROOT } from './test-app';

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((path) => existsSync(path));
export const hasPgBouncer = BINARY !== undefined;
export const inCi = process.env.CI === 'true' || process.env.CI === '1';

/**
 * deploy/pgbouncer.ini with only its "site" lines replaced for this machine: listen on a free
 * loopback port, trust the local user (the machine's PostgreSQL trusts it too), and serve every
 * database name (each suite makes its own) from the PostgreSQL of DATABASE_URL.
 */
export function pgbouncerConfig(options: { port: number; poolMode: 'transaction' | 'session'; authFile: string }): string {
  const server = new URL(baseDatabaseUrl());
  const site: Record<string, string> = {
    listen_addr: '127.0.0.1',
    listen_port: String(options.port),
    auth_type: 'trust',
    auth_file: options.authFile,
    pool_mode: options.poolMode,
  };
  const text = readFileSync(join(ROOT, 'deploy/pgbouncer.ini'), 'utf8');
  const lines = text.split('\n').map((line) => {
    const database = /^google_link = host=\S+ port=\d+ dbname=\S+( .*)$/.exec(line);
    if (database) return `* = host=${server.hostname} port=${server.port || 5432}${database[1]}`;
    const setting = /^(\w+) = /.exec(line);
    return setting && setting[1] in site ? `${setting[1]} = ${site[setting[1]]}` : line;
  });
  return lines.join('\n');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A real PgBouncer (Debian's package) on loopback in front of the tests' PostgreSQL. */
export class PgBouncer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly directory: string,
    readonly logs: string[],
  ) {}

  static async start(poolMode: 'transaction' | 'session' = 'transaction'): Promise<PgBouncer> {
    if (!BINARY) throw new Error('PgBouncer is required for this suite in CI and is missing: apt-get install -y pgbouncer');
    const directory = mkdtempSync(join(tmpdir(), 'google-link-pgbouncer-'));
    chmodSync(directory, 0o755);
    const server = new URL(baseDatabaseUrl());
    const authFile = join(directory, 'userlist.txt');
    // With auth_type=trust the user must still be listed; its password is what PgBouncer gives the server.
    writeFileSync(authFile, `"${decodeURIComponent(server.username || 'postgres')}" "${decodeURIComponent(server.password)}"\n`, { mode: 0o644 });
    const port = await freePort();
    const configFile = join(directory, 'pgbouncer.ini');
    writeFileSync(configFile, pgbouncerConfig({ port, poolMode, authFile }), { mode: 0o644 });
    // PgBouncer refuses to run as root: as root (CI containers), it runs as the postgres user.
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const logs: string[] = [];
    const child = spawn(BINARY, [...(asRoot ? ['-u', 'postgres'] : []), configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await listening(port)) return new PgBouncer(port, child, directory, logs);
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`PgBouncer did not start:\n${logs.join('')}`);
  }

  /** `url` (a database of the tests' PostgreSQL) as reached through this PgBouncer. */
  url(url: string): string {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(this.port);
    return through.toString();
  }

  /** What PgBouncer itself reports (its admin console is off: the pools are read from its log). */
  static version(): string {
    return BINARY ? execFileSync(BINARY, ['--version'], { encoding: 'utf8' }).split('\n')[0] : 'none';
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      await exited;
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}
