import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { KeyRing } from '../src/crypto/key-ring';
import { parseEncryptionKeys } from '../src/config/app-config';
import { PgBouncer } from '../test/support/pgbouncer';
import { freePort } from '../test/support/test-app';
import { BenchDatabase } from './bench-database';
import { BenchOptions, benchOptions } from './bench-options';
import { dbCeiling } from './db-ceiling';
import { forkScript, IpcClient } from './child-process';
import type { LinkRun, LinkTask } from './link-driver';
import { load, LoadResult, LoadTarget } from './load';
import { cpuSeconds } from './process-stats';
import { queryPlans } from './query-plans';
import { BenchReport, formatTable, ScenarioResult } from './report';
import { seedScale, seededSessionToken } from './scale-seed';
import { SERVICE_NODE_OPTIONS, ServiceProcess } from './service-process';

const MB = 1024 * 1024;
const RSS_TARGET_MB = 250;
/** The fastest link rate we plan users for; a faster service runs out of fresh users (reported). */
const MAX_LINKS_PER_SECOND = 2000;
const ME_USERS = 2000;
const REFRESH_TTL_SECONDS = 30;
/** Connections kept waiting on a hung Google beside the measured users/me. */
const HANGING_CONNECTIONS = 20;

type Outcome = LoadResult & { notes?: string; cpuSeconds: number };

interface Scenario {
  name: string;
  label: string;
  /** Minimum ratio to the baseline, or (link round trips) minimum completions per second. */
  minRatio?: number;
  minPerSecond?: number;
  /** Not served by the service (the baseline, the database alone): no RSS, no ratio target. */
  external?: boolean;
  run(): Promise<Outcome>;
}

async function check(url: string, token: string | undefined, accept: (body: unknown) => boolean): Promise<void> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body: unknown = await response.json().catch(() => undefined);
  if (response.status !== 200 || !accept(body)) throw new Error(`Sanity check failed for ${url}: ${response.status} ${JSON.stringify(body)}`);
}

async function main(options: BenchOptions): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'google-link-bench-'));
  const database = await BenchDatabase.open();
  // --pgbouncer: the service's connections go through PgBouncer in transaction mode; the harness's own queries do not.
  const pgbouncer = options.pgbouncer ? await PgBouncer.start('transaction') : undefined;
  const serviceDatabaseUrl = pgbouncer ? pgbouncer.url(database.url) : database.url;
  const google = await forkScript<{ url: string }>(resolve(__dirname, 'google-process.js'));
  const fake = new IpcClient(google.child);
  const baseline = await forkScript<{ port: number }>(resolve(__dirname, 'baseline-server.js'));
  const fastifyFloor = await forkScript<{ port: number }>(resolve(__dirname, 'framework-floor-server.js'), ['fastify']);
  const nestFloor = await forkScript<{ port: number }>(resolve(__dirname, 'framework-floor-server.js'), ['nest']);
  const queryFloor = await forkScript<{ port: number }>(resolve(__dirname, 'framework-floor-server.js'), ['nest-pg', database.url]);
  const encryptionKeys = `bench:${randomBytes(32).toString('base64')}`;
  const googleEnv = await fake.call<Record<string, string>>('env');
  const port = await freePort();
  const serviceUrl = `http://127.0.0.1:${port}`;
  await fake.call('configure', { redirectUri: `${serviceUrl}/api/v1/auth/google/callback` });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    NODE_OPTIONS: SERVICE_NODE_OPTIONS,
    PORT: String(port),
    PUBLIC_URL: serviceUrl,
    DATABASE_URL: serviceDatabaseUrl,
    ...(pgbouncer ? { DATABASE_POOL_MODE: 'transaction' } : {}),
    DATA_DIR: join(workDir, 'data'),
    ENCRYPTION_KEYS: encryptionKeys,
    // Bench users each come from an address of their own (X-Forwarded-For through a trusted proxy),
    // but far faster than people do: the per-address auth limit must not cap the bench.
    TRUST_PROXY: 'true',
    AUTH_RATE_LIMIT: '1000000000',
    // Likewise the per-user limit on out-of-office: a few bench users send thousands of requests a minute.
    GOOGLE_API_RATE_LIMIT: '1000000000',
    ...googleEnv,
    ...(options.logLevel ? { LOG_LEVEL: options.logLevel } : {}),
    ...options.serviceEnv,
  };
  const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const service = await ServiceProcess.start(env, workDir, nodeFlags);
  let exitCode = 0;
  try {
    let seed: Record<string, number> | undefined;
    if (options.seeded) {
      console.log(`Seeding ${options.seedUsers.toLocaleString()} users and ${options.seedLinks.toLocaleString()} links…`);
      seed = await seedScale(database, new KeyRing(parseEncryptionKeys(encryptionKeys)), options.seedUsers, options.seedLinks);
      console.log(`Seeded: ${JSON.stringify(seed)}`);
    }
    const meUsers = await database.signedInUsers('bench-me', ME_USERS);
    const linkTasks: LinkTask[] = await database.signedInUsers(
      'bench-link',
      Math.ceil(MAX_LINKS_PER_SECOND * (options.durationSeconds + options.warmupSeconds)),
    );
    await fake.call('setLinkTasks', linkTasks);
    let linkedTokens: string[] = [];

    /** Warm up, then measure, counting the CPU time the serving process spends on the measured part only. */
    const metered = async <T>(pid: number, warmUp: () => Promise<unknown>, measured: () => Promise<T>): Promise<T & { cpuSeconds: number }> => {
      await warmUp();
      const before = cpuSeconds(pid);
      const result = await measured();
      return { ...result, cpuSeconds: cpuSeconds(pid) - before };
    };
    const measure = (target: LoadTarget, pid = service.pid): Promise<Outcome> =>
      metered(
        pid,
        () => load(target, options.connections, options.warmupSeconds),
        () => load(target, options.connections, options.durationSeconds),
      );
    const meTokens = meUsers.map((user) => user.token);
    const OOO_URL = `${serviceUrl}/api/v1/users/me/google/out-of-office`;
    const whileGoogleHangs = async <T>(run: () => Promise<T>): Promise<T> => {
      await fake.call('hang', true);
      try {
        return await run();
      } finally {
        await fake.call('hang', false);
      }
    };
    const scenarios: Scenario[] = [
      {
        name: 'baseline',
        label: 'baseline: node:http fixed JSON',
        external: true,
        run: () => measure({ url: `http://127.0.0.1:${baseline.ready.port}/` }, baseline.child.pid),
      },
      {
        name: 'db-ceiling',
        label: pgbouncer ? 'PostgreSQL through PgBouncer: SELECT round trips/s' : 'PostgreSQL alone: SELECT round trips/s',
        external: true,
        run: async () => ({ ...(await dbCeiling(serviceDatabaseUrl, options.connections, options.durationSeconds)), cpuSeconds: 0 }),
      },
      {
        name: 'floor-fastify',
        label: 'floor: bare Fastify, fixed JSON',
        external: true,
        run: () => measure({ url: `http://127.0.0.1:${fastifyFloor.ready.port}/` }, fastifyFloor.child.pid),
      },
      {
        name: 'floor-nest',
        label: 'floor: bare NestJS on Fastify, fixed JSON',
        external: true,
        run: () => measure({ url: `http://127.0.0.1:${nestFloor.ready.port}/` }, nestFloor.child.pid),
      },
      {
        name: 'floor-nest-pg',
        label: 'floor: bare NestJS + one pg SELECT',
        external: true,
        run: () => measure({ url: `http://127.0.0.1:${queryFloor.ready.port}/` }, queryFloor.child.pid),
      },
      { name: 'health', label: 'GET /health/live', minRatio: 0.7, run: () => measure({ url: `${serviceUrl}/health/live` }) },
      {
        name: 'me',
        label: 'GET /api/v1/users/me (not linked)',
        minRatio: 0.25,
        run: () => measure({ url: `${serviceUrl}/api/v1/users/me`, bearerTokens: meTokens }),
      },
      {
        name: 'link-start',
        label: 'GET /api/v1/auth/google/link',
        minRatio: 0.15,
        run: () => measure({ url: `${serviceUrl}/api/v1/auth/google/link`, bearerTokens: meTokens }),
      },
      {
        name: 'link-round-trip',
        label: 'link round trip (completed links/s)',
        minPerSecond: 400,
        run: async () => {
          const run = await metered(
            service.pid,
            () => fake.call<LinkRun>('driveLinks', serviceUrl, options.connections, options.warmupSeconds),
            () => fake.call<LinkRun>('driveLinks', serviceUrl, options.connections, options.durationSeconds),
          );
          const all = await database.query<{ email: string }>(`SELECT email FROM google_oauth2_users WHERE email LIKE 'bench-link-%'`);
          const linkedEmails = new Set(all.map((row) => row.email));
          linkedTokens = linkTasks.filter((task) => linkedEmails.has(task.email)).map((task) => task.token);
          const notes = [run.exhausted ? 'ran out of fresh users' : '', ...Object.entries(run.failures).map(([reason, count]) => `${reason}: ${count}`)]
            .filter(Boolean)
            .join(', ');
          return {
            requestsPerSecond: run.completed / run.seconds,
            p50Ms: run.latency.p50,
            p99Ms: run.latency.p99,
            requests: run.completed + run.failed,
            non2xx: run.failed,
            errors: 0,
            cpuSeconds: run.cpuSeconds,
            notes: notes || undefined,
          };
        },
      },
      {
        name: 'me-linked',
        label: 'GET /api/v1/users/me (linked)',
        minRatio: 0.25,
        run: () => measure({ url: `${serviceUrl}/api/v1/users/me`, bearerTokens: linkedTokens }),
      },
      {
        name: 'ooo-cached',
        label: 'GET …/google/out-of-office (cached token)',
        minRatio: 0.2,
        run: async () => {
          await check(`${serviceUrl}/api/v1/users/me/google/out-of-office`, linkedTokens[0], (body) => Array.isArray((body as { events?: unknown }).events));
          return measure({ url: `${serviceUrl}/api/v1/users/me/google/out-of-office`, bearerTokens: linkedTokens });
        },
      },
      {
        name: 'ooo-cached-hanging',
        label: 'GET …/google/out-of-office (cached token, token endpoint hangs)',
        run: () => whileGoogleHangs(() => measure({ url: OOO_URL, bearerTokens: linkedTokens })),
      },
      {
        name: 'ooo-refresh',
        label: 'GET …/google/out-of-office (refresh each time)',
        run: async () => {
          // Tokens that expire inside the 60 s refresh margin: every request refreshes at fake Google (one per user at a time).
          await fake.call('configure', { accessTokenTtlSeconds: REFRESH_TTL_SECONDS });
          await database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE email LIKE 'bench-link-%'`);
          try {
            return await measure({ url: `${serviceUrl}/api/v1/users/me/google/out-of-office`, bearerTokens: linkedTokens });
          } finally {
            await fake.call('configure', { accessTokenTtlSeconds: 3599 });
          }
        },
      },
      {
        name: 'ooo-refresh-hanging',
        label: 'GET …/google/out-of-office (refresh each time, token endpoint hangs: 502)',
        run: async () => {
          await database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE email LIKE 'bench-link-%'`);
          return whileGoogleHangs(() => measure({ url: OOO_URL, bearerTokens: linkedTokens, expectedStatus: 502 }));
        },
      },
      {
        name: 'me-hanging',
        label: 'GET /api/v1/users/me (linked) beside refreshes hanging at Google',
        run: async () => {
          await database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE email LIKE 'bench-link-%'`);
          return whileGoogleHangs(async () => {
            // Out-of-office requests held on the hung token endpoint the whole time, beside the measured users/me.
            const hanging = load(
              { url: OOO_URL, bearerTokens: linkedTokens, expectedStatus: 502 },
              HANGING_CONNECTIONS,
              options.warmupSeconds + options.durationSeconds + 1,
            );
            const measured = await measure({ url: `${serviceUrl}/api/v1/users/me`, bearerTokens: linkedTokens });
            const background = await hanging;
            return {
              ...measured,
              notes: `beside ${background.requests} out-of-office requests answered 502 after the Google timeout (${HANGING_CONNECTIONS} connections)`,
            };
          });
        },
      },
    ];

    await check(`${serviceUrl}/health/live`, undefined, (body) => (body as { status?: string }).status === 'ok');
    await check(`${serviceUrl}/api/v1/users/me`, meTokens[0], (body) => (body as { googleAccount?: unknown }).googleAccount === null);
    await check(`${serviceUrl}/api/v1/auth/google/link`, meTokens[0], (body) => typeof (body as { url?: unknown }).url === 'string');

    const results: ScenarioResult[] = [];
    let baselineRps = 0;
    service.startSampling();
    for (const scenario of scenarios) {
      if (options.only && scenario.name !== 'baseline' && !options.only.includes(scenario.name)) continue;
      process.stdout.write(`${scenario.label}… `);
      service.takePeakRss();
      const outcome = await scenario.run();
      if (scenario.name === 'baseline') baselineRps = outcome.requestsPerSecond;
      const rssMb = service.takePeakRss() / MB;
      const ratio = scenario.name === 'baseline' || scenario.minPerSecond ? null : outcome.requestsPerSecond / baselineRps;
      const failures = outcome.non2xx + outcome.errors;
      results.push({
        name: scenario.name,
        label: scenario.label,
        requestsPerSecond: outcome.requestsPerSecond,
        p50Ms: outcome.p50Ms,
        p99Ms: outcome.p99Ms,
        ratio,
        target: scenario.minRatio ? `≥ ${scenario.minRatio.toFixed(2)}×` : scenario.minPerSecond ? `≥ ${scenario.minPerSecond}/s` : null,
        met: scenario.minRatio ? ratio! >= scenario.minRatio : scenario.minPerSecond ? outcome.requestsPerSecond >= scenario.minPerSecond : null,
        peakRssMb: scenario.external ? 0 : rssMb,
        cpuMsPerRequest: outcome.requests ? (outcome.cpuSeconds * 1000) / outcome.requests : 0,
        requests: outcome.requests,
        failures,
        notes: outcome.notes,
      });
      if (failures > 0) exitCode = 1;
      console.log(`${Math.round(outcome.requestsPerSecond)} req/s${failures ? `, ${failures} failed` : ''}${outcome.notes ? ` (${outcome.notes})` : ''}`);
    }

    const peakMb = service.peakRssBytes() / MB;
    const report: BenchReport = {
      command: `npm run ${options.seeded ? 'bench:seed' : 'bench'}${options.pgbouncer ? ' -- --pgbouncer' : ''}`,
      date: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        kernel: release(),
        node: process.version,
        postgres: `${database.serverVersion}${database.embedded ? ' (embedded)' : ''}${pgbouncer ? `, through ${PgBouncer.version()} (transaction mode)` : ''}`,
      },
      options: {
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        connections: options.connections,
        serviceLogLevel: options.logLevel ?? 'info (the default: one log line per request)',
        serviceNodeEnv: 'production',
        serviceNodeOptions: SERVICE_NODE_OPTIONS || '(none)',
      },
      seed,
      scenarios: results,
      rss: { peakMb, highWaterMarkMb: service.highWaterMarkBytes() / MB, targetMb: RSS_TARGET_MB, met: peakMb <= RSS_TARGET_MB },
    };
    if (options.seeded) {
      const [subject] = await database.query<{ user_id: string; email: string }>(
        `SELECT user_id, email FROM google_oauth2_users WHERE google_user_id LIKE 'seed-sub-%' AND status = 'active' ORDER BY created_at DESC LIMIT 1 OFFSET 1000`,
      );
      const seededIndex = Number(/^seed-(\d+)@/.exec(subject.email)![1]);
      report.plans = await queryPlans(database.url, encryptionKeys, googleEnv, {
        linkedUserId: subject.user_id,
        sessionToken: seededSessionToken(seededIndex),
      });
    }
    console.log(`\n${formatTable(report)}\n`);
    mkdirSync(dirname(options.resultsFile), { recursive: true });
    writeFileSync(options.resultsFile, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`Results written to ${options.resultsFile}`);
    return exitCode;
  } finally {
    await service.stop();
    google.child.disconnect();
    baseline.child.disconnect();
    fastifyFloor.child.disconnect();
    nestFloor.child.disconnect();
    queryFloor.child.disconnect();
    await pgbouncer?.stop();
    await database.close();
    if (exitCode === 0 && !process.env.BENCH_KEEP_LOG) rmSync(workDir, { recursive: true, force: true });
    else console.log(`The service's log is kept in ${workDir}`);
  }
}

main(benchOptions()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
