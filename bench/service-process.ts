import { ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { memoryBytes } from './process-stats';

/** BENCH_SERVICE_MAIN benches another build of the service (a before/after comparison); default: the one `npm run build` makes. */
const MAIN = resolve(process.env.BENCH_SERVICE_MAIN ?? 'dist/src/main.js');
const START_TIMEOUT_MS = 60_000;
/** The production image's NODE_OPTIONS (Dockerfile); BENCH_NODE_OPTIONS replaces them (empty: Node's defaults). */
export const SERVICE_NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=512';

/**
 * The built service (`dist/src/main.js`, what `npm start` runs) in a child process. Its log lines
 * go to a file, as they would go to a log shipper: writing them is part of the cost measured.
 */
export class ServiceProcess {
  private peakRss = 0;
  private sampler?: NodeJS.Timeout;

  private constructor(
    readonly url: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(env: Record<string, string>, workDir: string, nodeFlags: string[] = []): Promise<ServiceProcess> {
    const logFile = join(workDir, 'service.log');
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, [...nodeFlags, MAIN], { env, stdio: ['ignore', out, out] });
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    const service = new ServiceProcess(env.PUBLIC_URL, logFile, child, exited);
    await service.waitUntilReady();
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private windowPeakRss = 0;

  /** Samples the resident set every 100 ms from now on. */
  startSampling(): void {
    this.sampler ??= setInterval(() => {
      const rss = memoryBytes(this.pid, 'VmRSS');
      this.peakRss = Math.max(this.peakRss, rss);
      this.windowPeakRss = Math.max(this.windowPeakRss, rss);
    }, 100);
  }

  /** The largest sample since sampling started. */
  peakRssBytes(): number {
    return Math.max(this.peakRss, memoryBytes(this.pid, 'VmRSS'));
  }

  /** The largest sample since the previous call (one scenario's peak). */
  takePeakRss(): number {
    const peak = this.windowPeakRss;
    this.windowPeakRss = 0;
    return peak;
  }

  /** The kernel's own high-water mark of the resident set since the process started. */
  highWaterMarkBytes(): number {
    return memoryBytes(this.pid, 'VmHWM');
  }

  async stop(): Promise<number | null> {
    clearInterval(this.sampler);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let gone = false;
    void this.exited.then(() => (gone = true));
    while (Date.now() < deadline && !gone) {
      try {
        if ((await fetch(`${this.url}/health/ready`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    this.child.kill('SIGKILL');
    throw new Error(`The service did not become ready; its log: ${this.logFile}`);
  }
}
