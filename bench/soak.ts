import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../src/database/embedded-postgres';
import { TestDatabase } from '../test/support/database';
import { eventually } from '../test/support/deadline';
import { Fault, FakeEndpoint, FakeGoogle } from '../test/support/fake-google';
import { testKeyRing } from '../test/support/google-flows';
import { startTestApp, TestApp } from '../test/support/test-app';
import { CheckResult, finalChecks, invariantChecks } from './soak-checks';
import { SoakPerson, SoakWorld, Tally } from './soak-person';

/**
 * Load-and-fault soak (`npm run soak`): many simulated people run the full cycle against the built
 * service while the fake Google fails a share of its answers; then the database is checked for
 * consistency. Bounded in time and in cycles, loopback only. Exits non-zero on any violation.
 *
 *   SOAK_DURATION_SECONDS (180)  SOAK_PEOPLE (16)  SOAK_MAX_CYCLES (20000)  SOAK_FAULT_RATE (0.05)
 *   SOAK_SETTLE_SECONDS (30)  SOAK_GOOGLE_TIMEOUT_MS (300)  SOAK_PURGE_GRACE_SECONDS (360)
 * or the same as flags: --duration=60 --people=16 --max-cycles=… --fault-rate=… --settle=…
 */
interface SoakOptions {
  durationSeconds: number;
  people: number;
  maxCycles: number;
  faultRate: number;
  settleSeconds: number;
  googleTimeoutMs: number;
  /** The service purges expired states every 5 minutes: a state expired longer ago than this was missed. */
  purgeGraceSeconds: number;
}

const STATE_TTL_SECONDS = 30;
const INVARIANT_EVERY_MS = 5_000;
const FAULT_TICK_MS = 200;
const FAULTY_ENDPOINTS: FakeEndpoint[] = ['authorize', 'token', 'refresh', 'userinfo', 'revoke', 'jwks', 'calendar'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function soakOptions(argv: string[]): SoakOptions {
  const flags = new Map(argv.filter((arg) => arg.startsWith('--')).map((arg) => arg.slice(2).split('=') as [string, string]));
  const number = (flag: string, variable: string, fallback: number, min: number, max: number) => {
    const raw = flags.get(flag) ?? process.env[variable];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${flag} / ${variable} must be between ${min} and ${max}, got "${raw}"`);
    return value;
  };
  return {
    durationSeconds: number('duration', 'SOAK_DURATION_SECONDS', 180, 1, 3600),
    people: Math.round(number('people', 'SOAK_PEOPLE', 16, 1, 500)),
    maxCycles: Math.round(number('max-cycles', 'SOAK_MAX_CYCLES', 20_000, 1, 10_000_000)),
    faultRate: number('fault-rate', 'SOAK_FAULT_RATE', 0.05, 0, 1),
    settleSeconds: number('settle', 'SOAK_SETTLE_SECONDS', 30, 1, 3600),
    googleTimeoutMs: Math.round(number('google-timeout', 'SOAK_GOOGLE_TIMEOUT_MS', 300, 100, 120_000)),
    purgeGraceSeconds: number('purge-grace', 'SOAK_PURGE_GRACE_SECONDS', 360, 1, 86_400),
  };
}

/** Fails about `rate` of the fake Google's requests: each tick, one fault per observed request with that chance. */
class FaultInjector {
  readonly injected = new Tally();
  readonly observed = new Tally();
  private timer?: NodeJS.Timeout;
  private readonly faults: Array<[string, Fault]>;

  constructor(
    private readonly google: FakeGoogle,
    private readonly rate: number,
    timeoutMs: number,
  ) {
    this.faults = [
      ['500', { status: 500, body: { error: 'internal_failure' } }],
      ['429', { status: 429, body: { error: 'rate_limit_exceeded' } }],
      ['slow', { delayMs: timeoutMs * 3 }],
      ['closed', { close: true }],
      ['garbage', { garbage: true }],
    ];
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), FAULT_TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.tick();
    this.google.clearFaults();
  }

  private tick(): void {
    const requests = this.google.requests();
    // The fake records every request; resetting keeps a long soak's memory flat.
    this.google.resetRequests();
    for (const { endpoint } of requests) {
      this.observed.add('google requests', endpoint);
      if (this.timer === undefined || !FAULTY_ENDPOINTS.includes(endpoint) || Math.random() >= this.rate) continue;
      const [name, fault] = this.faults[Math.floor(Math.random() * this.faults.length)];
      this.google.fail(endpoint, fault, 1);
      this.injected.add(endpoint, name);
    }
  }
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  return [line(headers), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function openDatabase(): Promise<{ database: TestDatabase; embedded?: EmbeddedDatabase; dataDir?: string }> {
  if (process.env.DATABASE_URL) {
    const host = new URL(process.env.DATABASE_URL).hostname;
    if (!LOOPBACK.has(host)) throw new Error(`The soak runs on loopback only; DATABASE_URL points at ${host}`);
    return { database: await TestDatabase.create() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'google-link-soak-pg-'));
  const embedded = new EmbeddedDatabase(dataDir);
  process.env.DATABASE_URL = await embedded.start();
  return { database: await TestDatabase.create(), embedded, dataDir };
}

async function main(options: SoakOptions): Promise<number> {
  const started = Date.now();
  const { database, embedded, dataDir } = await openDatabase();
  const google = await FakeGoogle.start();
  let app: TestApp | undefined;
  try {
    app = await startTestApp(
      {
        ...google.env(),
        GOOGLE_HTTP_TIMEOUT_MS: String(options.googleTimeoutMs),
        REVOCATION_RETRY_SECONDS: '1',
        STATE_TTL_SECONDS: String(STATE_TTL_SECONDS),
        AUTH_RATE_LIMIT: '1000000',
        LOG_LEVEL: 'warn',
      },
      database,
    );
    google.redirectUri = `${app.url}/api/v1/auth/google/callback`;
    const keyRing = testKeyRing();
    const world: SoakWorld = {
      serviceUrl: app.url,
      google,
      database,
      tally: new Tally(),
      presentedStates: [],
      retiredGrants: [],
      keyRing,
      violations: [],
      requestDeadlineMs: options.googleTimeoutMs * 4 + 10_000,
    };
    const invariantFailures = new Set<string>();
    let invariantPasses = 0;
    const checkInvariants = async () => {
      for (const result of await invariantChecks(database, keyRing)) if (!result.ok) invariantFailures.add(`${result.name}: ${result.detail}`);
      invariantPasses += 1;
    };

    const injector = new FaultInjector(google, options.faultRate, options.googleTimeoutMs);
    const run = randomBytes(3).toString('hex');
    const deadline = Date.now() + options.durationSeconds * 1000;
    let cycles = 0;
    const endings = new Tally();
    console.log(
      `soak: ${options.people} people for ${options.durationSeconds} s (at most ${options.maxCycles} cycles), fault rate ${options.faultRate}, Google timeout ${options.googleTimeoutMs} ms`,
    );
    injector.start();
    const invariantTimer = setInterval(
      () => void checkInvariants().catch((error: Error) => invariantFailures.add(`invariant check failed: ${error.message}`)),
      INVARIANT_EVERY_MS,
    );
    const progress = setInterval(
      () => console.log(`soak: ${Math.round((Date.now() - started) / 1000)} s, ${cycles} cycles, ${world.violations.length} violations`),
      15_000,
    );
    await Promise.all(
      Array.from({ length: options.people }, async (_, worker) => {
        while (Date.now() < deadline && cycles < options.maxCycles) {
          cycles += 1;
          const person = new SoakPerson(world, `soak-${run}-${worker}-${cycles}@example.com`);
          endings.add('cycles', await person.cycle());
        }
      }),
    );
    clearInterval(progress);
    clearInterval(invariantTimer);
    injector.stop();
    const loadSeconds = (Date.now() - started) / 1000;

    // Faults have stopped: the revocation outbox must drain within the retry window.
    await eventually(async () => (await database.query('SELECT 1 FROM google_revocations LIMIT 1')).length === 0, options.settleSeconds * 1000, 500);
    await checkInvariants();
    const checks: CheckResult[] = [
      ...(await invariantChecks(database, keyRing)),
      ...(await finalChecks(database, {
        presentedStates: world.presentedStates,
        stateTtlSeconds: STATE_TTL_SECONDS,
        purgeGraceSeconds: options.purgeGraceSeconds,
      })),
      {
        name: `invariants held at every check during the run (${invariantPasses} passes)`,
        ok: invariantFailures.size === 0,
        detail: [...invariantFailures].join('; ') || 'held',
      },
      {
        name: 'clients saw only answers the SPEC allows (no 5xx but 502 google_unavailable, no hang)',
        ok: world.violations.length === 0,
        detail: `${world.violations.length} violation(s)`,
      },
    ];
    const alive = world.retiredGrants.filter((token) => google.isLive(token)).length;
    checks.push({
      name: 'every unlinked or replaced grant is revoked at Google',
      ok: alive === 0,
      detail: `${alive} of ${world.retiredGrants.length} still live`,
    });
    const unexpected = app.logs.filter((line) => /"msg":"(Unexpected failure|Database unavailable)/.test(line)).length;
    checks.push({ name: 'no unexpected failure in the service log', ok: unexpected === 0, detail: `${unexpected} line(s)` });
    const exitCode = await app.stop();
    checks.push({ name: 'the service shut down cleanly', ok: exitCode === 0, detail: `exit code ${exitCode}` });

    console.log(`\nsoak summary: ${loadSeconds.toFixed(0)} s of load, ${cycles} cycles by ${options.people} people, fault rate ${options.faultRate}\n`);
    console.log(
      table(
        ['step', 'count', 'outcomes'],
        [...endings.rows(), ...world.tally.rows()].map((row) => [row.step, String(row.total), row.outcomes]),
      ),
    );
    console.log('');
    console.log(
      table(
        ['Google endpoint', 'requests / faults injected', 'detail'],
        [...injector.observed.rows(), ...injector.injected.rows().map((row) => ({ ...row, step: `faults: ${row.step}` }))].map((row) => [
          row.step,
          String(row.total),
          row.outcomes,
        ]),
      ),
    );
    console.log('');
    console.log(
      table(
        ['check', 'result', 'detail'],
        checks.map((check) => [check.name, check.ok ? 'ok' : 'VIOLATION', check.detail]),
      ),
    );
    const examples = [...new Set(world.violations)].slice(0, 10);
    if (examples.length) console.log(`\nclient-side violations (first ${examples.length} distinct):\n${examples.map((line) => `  - ${line}`).join('\n')}`);
    const failed = checks.filter((check) => !check.ok).length;
    console.log(failed ? `\nsoak: ${failed} check(s) failed` : '\nsoak: every check passed');
    return failed ? 1 : 0;
  } finally {
    await app?.stop();
    await database.drop();
    await google.stop();
    await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main(soakOptions(process.argv.slice(2))).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`soak failed to run: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(2);
  },
);
