import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT } from './test-app';

const BINARY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => existsSync(path));
export const hasHaproxy = BINARY !== undefined;

/** A real HAProxy (Debian's package) running deploy/haproxy.cfg in front of two instances. */
export class Haproxy {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    readonly logs: string[],
  ) {}

  /** Listens on a free loopback port; the instances are given later (their PUBLIC_URL is this url). */
  static async reserve(): Promise<{ port: number; url: string }> {
    const port = await freePort();
    return { port, url: `http://127.0.0.1:${port}` };
  }

  static async start(port: number, instances: [string, string]): Promise<Haproxy> {
    if (!BINARY) throw new Error('HAProxy is required for this suite in CI and is missing: apt-get install -y haproxy');
    const logs: string[] = [];
    const env = {
      PATH: process.env.PATH ?? '',
      GOOGLE_LINK_LISTEN: `127.0.0.1:${port}`,
      GOOGLE_LINK_APP1: new URL(instances[0]).host,
      GOOGLE_LINK_APP2: new URL(instances[1]).host,
    };
    const child = spawn(BINARY, ['-db', '-f', join(ROOT, 'deploy/haproxy.cfg')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      try {
        if ((await fetch(`${url}/health/live`)).status === 200) return new Haproxy(url, child, logs);
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`HAProxy did not start:\n${logs.join('')}`);
  }

  /** HAProxy's own log lines saying a server went down or came back. */
  transitions(server: string): string[] {
    return this.logs
      .join('')
      .split('\n')
      .filter((line) => line.includes(`instances/${server} is`));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
