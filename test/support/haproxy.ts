import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from './test-app';

const BINARY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => existsSync(path));
export const hasHaproxy = BINARY !== undefined;

/**
 * A real HAProxy (Debian's package) running deploy/haproxy.cfg in front of two instances, or more:
 * a further instance gets a `server appN` line after app2's in each backend, as an operator would add it.
 */
export class Haproxy {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    readonly logs: string[],
    private readonly statsSocket?: string,
  ) {}

  /** Listens on a free loopback port; the instances are given later (their PUBLIC_URL is this url). */
  static async reserve(): Promise<{ port: number; url: string }> {
    const port = await freePort();
    return { port, url: `http://127.0.0.1:${port}` };
  }

  /** `statsSocket`: HAProxy's stats socket on too (a Unix socket in a temporary directory), read by stats(). */
  static async start(port: number, instances: string[], options: { statsSocket?: boolean } = {}): Promise<Haproxy> {
    if (!BINARY) throw new Error('HAProxy is required for this suite in CI and is missing: apt-get install -y haproxy');
    if (instances.length < 2) throw new Error('deploy/haproxy.cfg names at least two instances');
    const logs: string[] = [];
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', GOOGLE_LINK_LISTEN: `127.0.0.1:${port}` };
    instances.forEach((instance, index) => (env[`GOOGLE_LINK_APP${index + 1}`] = new URL(instance).host));
    let config = join(ROOT, 'deploy/haproxy.cfg');
    let statsSocket: string | undefined;
    if (instances.length > 2 || options.statsSocket) {
      const directory = mkdtempSync(join(tmpdir(), 'google-link-haproxy-'));
      // In every backend naming app2 (instances, send_once): the same line for app3…, `track` included.
      const further = (line: string) => instances.slice(2).map((_, index) => line.replace(/app2/g, `app${index + 3}`).replace(/APP2/g, `APP${index + 3}`));
      let text = readFileSync(config, 'utf8').replace(/^( +server app2 .*)$/gm, (line) => [line, ...further(line)].join('\n'));
      if (options.statsSocket) {
        statsSocket = join(directory, 'stats.sock');
        text = text.replace(/^global$/m, `global\n    stats socket ${statsSocket} level user`);
      }
      config = join(directory, 'haproxy.cfg');
      writeFileSync(config, text);
    }
    const child = spawn(BINARY, ['-db', '-f', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      try {
        if ((await fetch(`${url}/health/live`)).status === 200) return new Haproxy(url, child, logs, statsSocket);
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`HAProxy did not start:\n${logs.join('')}`);
  }

  /** HAProxy's own log lines saying a server of a backend went down or came back (send_once's: "… via instances/appN"). */
  transitions(server: string, backend = 'instances'): string[] {
    return this.logs
      .join('')
      .split('\n')
      .filter((line) => line.includes(`${backend}/${server} is`));
  }

  /** `show stat` from the stats socket: one record per proxy and server (pxname, svname, status, stot…). */
  async stats(): Promise<Array<Record<string, string>>> {
    if (!this.statsSocket) throw new Error('HAProxy was started without its stats socket');
    const socketPath = this.statsSocket;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath, () => socket.end('show stat\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.once('error', reject);
    });
    const [header, ...rows] = text.trim().split('\n');
    const names = header.replace(/^# /, '').split(',');
    return rows.map((row) => Object.fromEntries(row.split(',').map((value, column) => [names[column], value])));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
