import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestDatabase } from './database';
import { HttpClient } from './http-client';

export const TEST_ENCRYPTION_KEY = 'test1:' + Buffer.alloc(32, 7).toString('base64');
export const ROOT = resolve('.');
const MAIN = join(ROOT, 'dist/src/main.js');
const START_TIMEOUT_MS = 30_000;

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export interface TestApp {
  url: string;
  database: TestDatabase;
  env: Record<string, string>;
  process: ChildProcess;
  /** Every line the service wrote to stdout and stderr. */
  logs: string[];
  client(headers?: Record<string, string>): HttpClient;
  /** SIGTERM, then wait for the process to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
  close(): Promise<void>;
}

/** Runs the built service (`dist/src/main.js`, what `npm start` runs) as a child process. */
export function spawnService(env: Record<string, string>): { child: ChildProcess; logs: string[]; exited: Promise<number | null> } {
  const logs: string[] = [];
  const child = spawn(process.execPath, [MAIN], { env: env, stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  const collect = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines.filter(Boolean));
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return { child, logs, exited };
}

async function waitUntilReady(url: string, exited: Promise<number | null>, logs: string[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error(`The service did not become ready:\n${logs.slice(-20).join('\n')}`);
}

/**
 * Starts the real service on loopback against a fresh database (or the one given), with `env` on
 * top of test defaults. Nothing is mocked: it is the production build, speaking HTTP.
 */
export async function startTestApp(env: Record<string, string> = {}, database?: TestDatabase): Promise<TestApp> {
  const ownDatabase = !database;
  const db = database ?? (await TestDatabase.create());
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'google-link-app-')),
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: 'info',
    // Suites drive many auth requests a minute from one address; operations.e2e-spec.ts sets its own limit.
    AUTH_RATE_LIMIT: '100000',
    // Likewise for one user's out-of-office requests; out-of-office.e2e-spec.ts sets its own limit.
    GOOGLE_API_RATE_LIMIT: '100000',
    // Without a client id the service runs the built-in emulator, which it allows on a DATABASE_URL only when told to.
    ...(env.GOOGLE_CLIENT_ID ? {} : { GOOGLE_EMULATOR: 'true' }),
    ...env,
  };
  const { child, logs, exited } = spawnService(fullEnv);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, exited, logs);
  } catch (error) {
    child.kill('SIGKILL');
    if (ownDatabase) await db.drop();
    throw error;
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return {
    url,
    database: db,
    env: fullEnv,
    process: child,
    logs,
    client: (headers) => new HttpClient(url, headers),
    stop,
    close: async () => {
      await stop();
      if (ownDatabase) await db.drop();
    },
  };
}
