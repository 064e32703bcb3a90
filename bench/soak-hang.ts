import type { TestDatabase } from '../test/support/database';
import { summarise } from './latency';

export interface HangReport {
  seconds: number;
  readyProbes: number;
  readyFailures: string[];
  meProbes: number;
  meFailures: string[];
  meP50Ms: number;
  meMaxMs: number;
  databaseSamples: number;
  /** The most server connections seen `idle in transaction` at once. */
  maxIdleInTransaction: number;
  /** The oldest open transaction seen on the soak's database. */
  oldestTransactionMs: number;
}

const PROBE_EVERY_MS = 200;
const SAMPLE_EVERY_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * While Google hangs: /health/ready on every address and users/me (a route that needs no Google)
 * must keep answering 200, and no transaction may stay open (a connection held across a Google
 * call would show as one open for the whole Google timeout).
 */
export class HangProbe {
  private running = false;
  private loops: Promise<void>[] = [];
  private startedAt = 0;
  private readonly report: HangReport = {
    seconds: 0,
    readyProbes: 0,
    readyFailures: [],
    meProbes: 0,
    meFailures: [],
    meP50Ms: 0,
    meMaxMs: 0,
    databaseSamples: 0,
    maxIdleInTransaction: 0,
    oldestTransactionMs: 0,
  };
  private readonly meLatencies: number[] = [];

  constructor(
    private readonly database: TestDatabase,
    private readonly readyUrls: () => string[],
    private readonly meUrl: string,
    private readonly bearer: string,
  ) {}

  start(): void {
    this.running = true;
    this.startedAt = Date.now();
    this.loops = [this.probe(), this.sample()];
  }

  async stop(): Promise<HangReport> {
    this.running = false;
    await Promise.all(this.loops);
    const { p50 } = summarise(this.meLatencies);
    return { ...this.report, seconds: (Date.now() - this.startedAt) / 1000, meP50Ms: p50, meMaxMs: Math.max(0, ...this.meLatencies) };
  }

  private async probe(): Promise<void> {
    while (this.running) {
      await Promise.all([
        ...this.readyUrls().map(async (url) => {
          this.report.readyProbes += 1;
          const status = await this.status(`${url}/health/ready`, {});
          if (status !== 200) this.report.readyFailures.push(`${url}/health/ready: ${status}`);
        }),
        (async () => {
          this.report.meProbes += 1;
          const started = performance.now();
          const status = await this.status(this.meUrl, { authorization: `Bearer ${this.bearer}` });
          this.meLatencies.push(performance.now() - started);
          if (status !== 200) this.report.meFailures.push(`users/me: ${status}`);
        })(),
      ]);
      await sleep(PROBE_EVERY_MS);
    }
  }

  private async status(url: string, headers: Record<string, string>): Promise<number | string> {
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      return response.status;
    } catch (error) {
      return (error as Error).name;
    }
  }

  private async sample(): Promise<void> {
    while (this.running) {
      const [row] = await this.database.query<{ idle_in_transaction: string; oldest_ms: string }>(
        `SELECT count(*) FILTER (WHERE state LIKE 'idle in transaction%') AS idle_in_transaction,
                coalesce(max(extract(epoch FROM now() - xact_start) * 1000), 0) AS oldest_ms
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
      );
      this.report.databaseSamples += 1;
      this.report.maxIdleInTransaction = Math.max(this.report.maxIdleInTransaction, Number(row.idle_in_transaction));
      this.report.oldestTransactionMs = Math.max(this.report.oldestTransactionMs, Number(row.oldest_ms));
      await sleep(SAMPLE_EVERY_MS);
    }
  }
}
