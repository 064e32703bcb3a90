/** How a bench run is shaped: every knob comes from the environment or a flag, with defaults for this 2-core machine. */
export interface BenchOptions {
  /** Seconds each scenario is measured for (BENCH_DURATION, default 10). */
  durationSeconds: number;
  /** Seconds of unrecorded load before each scenario (BENCH_WARMUP, default 3). */
  warmupSeconds: number;
  /** Concurrent connections for autocannon, and workers for the link driver (BENCH_CONNECTIONS, default 50). */
  connections: number;
  /** The service's LOG_LEVEL; unset means the service's own default (info: one line per request). */
  logLevel: string | undefined;
  /** `--seed`: 1,000,000 users and 500,000 links first, then the same scenarios, then the query plans. */
  seeded: boolean;
  seedUsers: number;
  seedLinks: number;
  /** Extra variables for the service: BENCH_SERVICE_ENV_<NAME>=value (e.g. BENCH_SERVICE_ENV_REDIS_URL). */
  serviceEnv: Record<string, string>;
  /** Scenario names to run (BENCH_ONLY=health,me), all when unset. */
  only: string[] | undefined;
  /** `--pgbouncer`: the service (and the PostgreSQL-alone row) reach PostgreSQL through PgBouncer in transaction mode (deploy/pgbouncer.ini). */
  pgbouncer: boolean;
  /** Where results go: bench/results/latest.json, or seeded.json for a seeded run. */
  resultsFile: string;
}

const SERVICE_ENV_PREFIX = 'BENCH_SERVICE_ENV_';

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function benchOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const seeded = argv.includes('--seed');
  const pgbouncer = argv.includes('--pgbouncer');
  const only = process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return {
    durationSeconds: positive('BENCH_DURATION', 10),
    warmupSeconds: positive('BENCH_WARMUP', 3),
    connections: Math.round(positive('BENCH_CONNECTIONS', 50)),
    logLevel: process.env.BENCH_LOG_LEVEL || undefined,
    seeded,
    seedUsers: Math.round(positive('BENCH_SEED_USERS', 1_000_000)),
    seedLinks: Math.round(positive('BENCH_SEED_LINKS', 500_000)),
    serviceEnv: Object.fromEntries(
      Object.entries(process.env)
        .filter(([name, value]) => name.startsWith(SERVICE_ENV_PREFIX) && value !== undefined)
        .map(([name, value]) => [name.slice(SERVICE_ENV_PREFIX.length), value!]),
    ),
    only: only?.length ? only : undefined,
    pgbouncer,
    resultsFile: process.env.BENCH_RESULTS ?? (seeded ? 'bench/results/seeded.json' : pgbouncer ? 'bench/results/pgbouncer.json' : 'bench/results/latest.json'),
  };
}
