import pg from 'pg';
import { summarise } from './latency';
import type { LoadResult } from './load';

/**
 * How many trivial round trips PostgreSQL answers here (`SELECT $1`), from a pool as large as the
 * service's (10), with `callers` concurrent callers: the ceiling for any route that needs the database.
 */
export async function dbCeiling(url: string, callers: number, seconds: number): Promise<LoadResult> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  try {
    const run = async (runSeconds: number) => {
      const deadline = performance.now() + runSeconds * 1000;
      const latencies: number[] = [];
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (performance.now() < deadline) {
            const started = performance.now();
            await pool.query('SELECT $1::int AS one', [1]);
            latencies.push(performance.now() - started);
          }
        }),
      );
      return latencies;
    };
    await run(Math.min(2, seconds));
    const started = performance.now();
    const latencies = await run(seconds);
    const { p50, p99 } = summarise(latencies);
    return {
      requestsPerSecond: latencies.length / ((performance.now() - started) / 1000),
      p50Ms: p50,
      p99Ms: p99,
      requests: latencies.length,
      non2xx: 0,
      errors: 0,
    };
  } finally {
    await pool.end();
  }
}
