import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase } from '../src/database/embedded-postgres';
import { TestDatabase } from '../test/support/database';
import { eventually } from '../test/support/deadline';
import { Fault, FakeEndpoint, FakeGoogle } from '../test/support/fake-google';
import { testKeyRing } from '../test/support/google-flows';
import { Haproxy } from '../test/support/haproxy';
import { PgBouncer } from '../test/support/pgbouncer';
import { signedInUser } from '../test/support/sessions';
import { startTestApp, TestApp } from '../test/support/test-app';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { CheckResult, finalChecks, invariantChecks, linkConsistencyChecks, revocationChecks, webhookChecks } from './soak-checks';
import { revocationLeaseSeconds } from '../src/users/revocation-lease';
import { HangProbe, HangReport } from './soak-hang';
import { Kill, killInFlight, rememberGrant, SoakPerson, SoakWorld, Tally } from './soak-person';

/**
 * Load-and-fault soak (`npm run soak`): many simulated people run the full cycle against the built
 * service while the fake Google fails a share of its answers; then the database is checked for
 * consistency. Bounded in time and in cycles, loopback only. Exits non-zero on any violation.
 *
 *   SOAK_DURATION_SECONDS (180)  SOAK_PEOPLE (16)  SOAK_MAX_CYCLES (20000)  SOAK_FAULT_RATE (0.05)
 *   SOAK_SETTLE_SECONDS (30)  SOAK_GOOGLE_TIMEOUT_MS (300)  SOAK_PURGE_GRACE_SECONDS (360)
 *   SOAK_INSTANCES (1)  SOAK_FAULT (hanging-google)  SOAK_HANG_SECONDS (10)
 * or the same as flags: --duration 60 (or --duration=60) --people 16 --max-cycles … --fault-rate … --settle …
 *
 * --instances 2|3: that many instances behind HAProxy (deploy/haproxy.cfg), on PostgreSQL through
 * PgBouncer in transaction mode (deploy/pgbouncer.ini) and Redis; half-way one is killed (SIGKILL,
 * while a callback is in flight), then restarted. --fault hanging-google (the default; none to skip):
 * for SOAK_HANG_SECONDS from a fifth of the run, Google's token endpoint (code exchange and refresh)
 * stops answering.
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
  instances: number;
  fault: 'hanging-google' | 'none';
  hangSeconds: number;
}

const STATE_TTL_SECONDS = 30;
const INVARIANT_EVERY_MS = 5_000;
const FAULT_TICK_MS = 200;
const FAULTY_ENDPOINTS: FakeEndpoint[] = ['authorize', 'token', 'refresh', 'userinfo', 'revoke', 'jwks', 'calendar'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const REDIS_URL = 'redis://127.0.0.1:6379/12';
/** Longer than any timeout of the service: a request that reaches the hung endpoint waits until the service gives up. */
const HANG_MS = 3_600_000;

/** `--name value` or `--name=value`. */
function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index += 1) {
    if (!argv[index].startsWith('--')) continue;
    const [name, inline] = argv[index].slice(2).split('=', 2);
    const next = argv[index + 1];
    if (inline !== undefined) flags.set(name, inline);
    else if (next !== undefined && !next.startsWith('--')) flags.set(name, argv[(index += 1)]);
    else flags.set(name, 'true');
  }
  return flags;
}

function soakOptions(argv: string[]): SoakOptions {
  const flags = parseFlags(argv);
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
    instances: Math.round(number('instances', 'SOAK_INSTANCES', 1, 1, 3)),
    fault: fault(flags.get('fault') ?? process.env.SOAK_FAULT ?? 'hanging-google'),
    hangSeconds: number('hang-seconds', 'SOAK_HANG_SECONDS', 10, 1, 600),
  };
}

function fault(name: string): SoakOptions['fault'] {
  if (name === 'hanging-google' || name === 'none') return name;
  throw new Error(`--fault / SOAK_FAULT must be hanging-google or none, got "${name}"`);
}

/** Fails about `rate` of the fake Google's requests: each tick, one fault per observed request with that chance. */
class FaultInjector {
  readonly injected = new Tally();
  readonly observed = new Tally();
  /** Requests that reached the token endpoint while it hung. */
  hung = 0;
  private hanging = false;
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

  /** The token endpoint (code exchange and refresh) stops answering, or answers again. */
  hang(on: boolean): void {
    this.tick();
    this.hanging = on;
    this.google.clearFaults();
    if (on) for (const endpoint of ['token', 'refresh'] as const) this.google.fail(endpoint, { delayMs: HANG_MS }, Infinity);
  }

  private tick(): void {
    const requests = this.google.requests();
    // The fake records every request; resetting keeps a long soak's memory flat.
    this.google.resetRequests();
    for (const { endpoint } of requests) {
      this.observed.add('google requests', endpoint);
      if (this.hanging && (endpoint === 'token' || endpoint === 'refresh')) this.hung += 1;
      if (this.timer === undefined || this.hanging || !FAULTY_ENDPOINTS.includes(endpoint) || Math.random() >= this.rate) continue;
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The service as the soak reaches it: one instance, or several behind HAProxy on PgBouncer and Redis. */
class Topology {
  /** Every instance ever started (a killed one included), for the log check. */
  readonly everyApp: TestApp[];

  private constructor(
    readonly url: string,
    private readonly env: Record<string, string>,
    private readonly database: TestDatabase,
    readonly apps: TestApp[],
    readonly balancer?: Haproxy,
    private readonly pgbouncer?: PgBouncer,
  ) {
    this.everyApp = [...apps];
  }

  static async start(instances: number, env: Record<string, string>, database: TestDatabase): Promise<Topology> {
    if (instances === 1) {
      const app = await startTestApp(env, database);
      return new Topology(app.url, env, database, [app]);
    }
    const pgbouncer = await PgBouncer.start('transaction');
    const reserved = await Haproxy.reserve();
    const shared = {
      ...env,
      DATABASE_URL: pgbouncer.url(database.url),
      DATABASE_POOL_MODE: 'transaction',
      PUBLIC_URL: reserved.url,
      TRUST_PROXY: 'true',
      REDIS_URL,
    };
    const apps: TestApp[] = [];
    for (let index = 0; index < instances; index += 1) apps.push(await startTestApp(shared, database));
    const balancer = await Haproxy.start(
      reserved.port,
      apps.map((app) => app.url),
      { statsSocket: true },
    );
    return new Topology(reserved.url, shared, database, apps, balancer, pgbouncer);
  }

  /** Instance `index` (HAProxy's `app<index + 1>`) started again on its port. */
  async restart(index: number): Promise<void> {
    this.apps[index] = await startTestApp({ ...this.env, PORT: this.apps[index].env.PORT }, this.database);
    this.everyApp.push(this.apps[index]);
  }

  /** Requests HAProxy sent to each server so far (`stot`, every backend), and its status. */
  async serverStats(): Promise<Map<string, { sessions: number; status: string }>> {
    const servers = new Map<string, { sessions: number; status: string }>();
    for (const row of await this.serverRows()) {
      const server = servers.get(row.svname) ?? { sessions: 0, status: row.status };
      server.sessions += Number(row.stot);
      if (row.pxname === 'instances') server.status = row.status;
      servers.set(row.svname, server);
    }
    return servers;
  }

  /**
   * HAProxy's error counters per backend/server: connections that failed (`econ`: refused by a dead
   * instance), responses that failed (`eresp`: the connection closed or reset before a full answer),
   * and its retries and redispatches (`wretr`, `wredis`).
   */
  async serverErrors(): Promise<Array<{ server: string; svname: string; econ: number; eresp: number; wretr: number; wredis: number }>> {
    return (await this.serverRows()).map((row) => ({
      server: `${row.pxname}/${row.svname}`,
      svname: row.svname,
      econ: Number(row.econ || 0),
      eresp: Number(row.eresp || 0),
      wretr: Number(row.wretr || 0),
      wredis: Number(row.wredis || 0),
    }));
  }

  private async serverRows(): Promise<Array<Record<string, string>>> {
    const rows = (await this.balancer?.stats()) ?? [];
    return rows.filter((row) => ['instances', 'send_once'].includes(row.pxname) && row.svname.startsWith('app'));
  }

  async stop(): Promise<Array<number | null>> {
    await this.balancer?.stop();
    const codes: Array<number | null> = [];
    for (const app of this.apps) codes.push(await app.stop());
    await this.pgbouncer?.stop();
    return codes;
  }
}

interface KillReport {
  victim: string;
  callbacksInFlight: number;
  down: boolean;
  up: boolean;
  sessionsBefore: number;
  sessionsAfterUp: number;
  sessionsAtEnd: number;
  detail: string;
}

/** `step: what, sent N ms before/after the kill` for a few failures. */
function describeFailures(kills: Kill[], failures: SoakWorld['failures']): string {
  const kill = kills[0];
  return failures
    .slice(0, 4)
    .map(({ step, what, sentAt }) => {
      const offset =
        kill === undefined ? '' : sentAt <= kill.at ? `, sent ${kill.at - sentAt} ms before the kill` : `, sent ${sentAt - kill.at} ms after the kill`;
      return `${step}: ${what}${offset}`;
    })
    .join('; ');
}

/**
 * Only a request in flight at the kill may fail (no instance answering it: a closed connection or the
 * balancer's own 5xx): sent before the instance was gone and unanswered when it was killed. Any other
 * such failure, one sent after the instance's exit in particular, fails the check.
 */
function failedRequestsCheck(kills: Kill[], failures: SoakWorld['failures'], callbacksInFlight: number): CheckResult {
  const inFlight = failures.filter((failure) => killInFlight(kills, failure));
  const other = failures.filter((failure) => !killInFlight(kills, failure));
  const kill = kills[0];
  // Sent after the signal but before the exit was seen: the dying instance's sockets may still take it.
  const dying = kill ? inFlight.filter((failure) => failure.sentAt > kill.at).length : 0;
  const window = kill ? `the kill (signal to exit seen: ${kill.exitedAt - kill.at} ms; ${dying} sent within it)` : 'no kill';
  return {
    name: "failed requests only those in flight on the killed instance (connection error or the balancer's 502)",
    ok: other.length === 0,
    detail:
      `${inFlight.length} in flight at ${window} (${callbacksInFlight} callback(s) in flight)${inFlight.length ? `: ${describeFailures(kills, inFlight)}` : ''}; ` +
      `${other.length} other(s)${other.length ? `: ${describeFailures(kills, other)}` : ''}`,
  };
}

/** HAProxy's own count: no connection or response failed on an instance that was not killed, in any backend. */
function survivorErrorsCheck(errors: Awaited<ReturnType<Topology['serverErrors']>>, victim: string): CheckResult {
  const survivors = errors.filter((row) => row.svname !== victim);
  const failing = survivors.filter((row) => row.econ + row.eresp > 0);
  const killed = errors
    .filter((row) => row.svname === victim)
    .map((row) => `${row.server} econ ${row.econ}, eresp ${row.eresp}, retried ${row.wretr}, redispatched ${row.wredis}`);
  return {
    name: 'HAProxy saw no failed connection or response on the instances not killed (stats econ/eresp)',
    ok: failing.length === 0 && survivors.length > 0,
    detail: `${failing.length ? failing.map((row) => `${row.server} econ ${row.econ}, eresp ${row.eresp}`).join('; ') : `${survivors.length} server(s): 0`}; killed: ${killed.join('; ')}`,
  };
}

async function main(options: SoakOptions): Promise<number> {
  const started = Date.now();
  const { database, embedded, dataDir } = await openDatabase();
  const google = await FakeGoogle.start();
  const receiver = await WebhookReceiver.start();
  let topology: Topology | undefined;
  try {
    topology = await Topology.start(
      options.instances,
      {
        ...google.env(),
        GOOGLE_HTTP_TIMEOUT_MS: String(options.googleTimeoutMs),
        REVOCATION_RETRY_SECONDS: '1',
        STATE_TTL_SECONDS: String(STATE_TTL_SECONDS),
        AUTH_RATE_LIMIT: '1000000',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
        WEBHOOK_RETRY_DELAY_SECONDS: '1',
        LOG_LEVEL: 'warn',
      },
      database,
    );
    const cluster = topology;
    google.redirectUri = `${cluster.url}/api/v1/auth/google/callback`;
    const keyRing = testKeyRing();
    const world: SoakWorld = {
      serviceUrl: cluster.url,
      google,
      database,
      tally: new Tally(),
      presentedStates: [],
      retiredGrants: [],
      keyRing,
      violations: [],
      requestDeadlineMs: options.googleTimeoutMs * 4 + 10_000,
      kills: [],
      failures: [],
      callbacksInFlight: 0,
      storedGrants: new Map(),
    };
    const invariantFailures = new Set<string>();
    let invariantPasses = 0;
    const checkInvariants = async () => {
      // Every stored grant, so that one unlinked unseen (its answer lost in the kill) is still checked at Google.
      for (const row of await database.query<{ user_id: string; google_user_id: string; refresh_token: string | null }>(
        'SELECT user_id, google_user_id, refresh_token FROM google_oauth2_users WHERE refresh_token IS NOT NULL',
      ))
        rememberGrant(world, row.google_user_id, keyRing.open(row.refresh_token!, { column: 'google_oauth2_users.refresh_token', owner: row.user_id }));
      for (const result of await invariantChecks(database, keyRing)) if (!result.ok) invariantFailures.add(`${result.name}: ${result.detail}`);
      invariantPasses += 1;
    };

    const injector = new FaultInjector(google, options.faultRate, options.googleTimeoutMs);
    const run = randomBytes(3).toString('hex');
    const deadline = Date.now() + options.durationSeconds * 1000;
    let cycles = 0;
    const endings = new Tally();
    console.log(
      `soak: ${options.people} people for ${options.durationSeconds} s (at most ${options.maxCycles} cycles), fault rate ${options.faultRate}, Google timeout ${options.googleTimeoutMs} ms, ` +
        `${options.instances === 1 ? 'one instance' : `${options.instances} instances behind HAProxy, PgBouncer (transaction mode), Redis`}, fault: ${options.fault}`,
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

    const hangPhase = async (): Promise<HangReport | undefined> => {
      if (options.fault !== 'hanging-google') return undefined;
      await sleep(options.durationSeconds * 200);
      const prober = await signedInUser(database, `soak-${run}-prober@example.com`);
      const probe = new HangProbe(
        database,
        () => [cluster.url, ...(cluster.balancer ? cluster.apps.map((app) => app.url) : [])],
        `${cluster.url}/api/v1/users/me`,
        prober.token,
      );
      console.log(`soak: Google's token endpoint hangs for ${options.hangSeconds} s`);
      injector.hang(true);
      probe.start();
      await sleep(options.hangSeconds * 1000);
      const report = await probe.stop();
      injector.hang(false);
      console.log('soak: Google answers again');
      return report;
    };

    const killPhase = async (): Promise<KillReport | undefined> => {
      if (!cluster.balancer) return undefined;
      const balancer = cluster.balancer;
      await sleep(options.durationSeconds * 500);
      // Wait (a little) for a callback to be in flight, so that one is cut by the kill.
      const waitUntil = Date.now() + 5000;
      while (world.callbacksInFlight === 0 && Date.now() < waitUntil) await sleep(2);
      const victim = cluster.apps[1];
      const callbacksInFlight = world.callbacksInFlight;
      const sessionsBefore = (await cluster.serverStats()).get('app2')?.sessions ?? 0;
      const killed: Kill = { at: Date.now(), exitedAt: Infinity };
      world.kills.push(killed);
      victim.process.kill('SIGKILL');
      await victim.stop();
      killed.exitedAt = Date.now();
      console.log(
        `soak: killed app2 (SIGKILL) at ${new Date(killed.at).toISOString()} with ${callbacksInFlight} callback(s) in flight; its exit seen after ${killed.exitedAt - killed.at} ms`,
      );
      // Out and back in both backends: send_once's servers track the instances backend's checks.
      const both = (state: RegExp) => ['instances', 'send_once'].every((backend) => balancer.transitions('app2', backend).some((line) => state.test(line)));
      const down = await eventually(() => both(/is DOWN/), 15_000);
      await sleep(2000);
      await cluster.restart(1);
      const up = await eventually(() => both(/is UP/), 15_000);
      console.log(`soak: app2 restarted; HAProxy took it ${down ? 'out' : '(not) out'} and ${up ? 'back' : '(not) back'}`);
      const sessionsAfterUp = (await cluster.serverStats()).get('app2')?.sessions ?? 0;
      return {
        victim: 'app2',
        callbacksInFlight,
        down,
        up,
        sessionsBefore,
        sessionsAfterUp,
        sessionsAtEnd: 0,
        detail: [...balancer.transitions('app2'), ...balancer.transitions('app2', 'send_once')]
          .filter((line) => line.startsWith('['))
          .map((line) => line.replace(/^.*?(Server )/, '$1').slice(0, 90))
          .join(' / '),
      };
    };

    const phases = Promise.all([hangPhase(), killPhase()]);
    await Promise.all(
      Array.from({ length: options.people }, async (_, worker) => {
        while (Date.now() < deadline && cycles < options.maxCycles) {
          cycles += 1;
          const person = new SoakPerson(world, `soak-${run}-${worker}-${cycles}@example.com`);
          endings.add('cycles', await person.cycle());
        }
      }),
    );
    const [hang, kill] = await phases;
    clearInterval(progress);
    clearInterval(invariantTimer);
    injector.stop();
    const loadSeconds = (Date.now() - started) / 1000;

    // Faults have stopped: the revocation outbox must drain within the retry window.
    // A revocation the killed instance was sending is held for its lease, then any instance sends it.
    const settleMs = Math.max(options.settleSeconds, revocationLeaseSeconds(options.googleTimeoutMs) + 5) * 1000;
    await eventually(async () => (await database.query('SELECT 1 FROM google_revocations LIMIT 1')).length === 0, settleMs, 500);
    await checkInvariants();
    const receivedIds = new Set(receiver.received.map((hook) => String(hook.headers['webhook-id'])));
    const checks: CheckResult[] = [
      ...(await invariantChecks(database, keyRing)),
      ...(await linkConsistencyChecks(database)),
      ...(await revocationChecks(database, (googleUserId) => {
        const tokens = world.storedGrants.get(googleUserId);
        return tokens && [...tokens].filter((token) => google.isLive(token)).length;
      })),
      ...(await webhookChecks(database, receivedIds)),
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
    if (hang) {
      checks.push(
        {
          name: `while Google's token endpoint hung (${hang.seconds.toFixed(0)} s, ${injector.hung} requests held): /health/ready stayed 200`,
          ok: hang.readyFailures.length === 0 && hang.readyProbes > 0,
          detail: `${hang.readyProbes - hang.readyFailures.length}/${hang.readyProbes} probes 200${hang.readyFailures.length ? `: ${[...new Set(hang.readyFailures)].slice(0, 3).join(', ')}` : ''}`,
        },
        {
          name: 'while Google hung: users/me (no Google call) kept answering 200',
          ok: hang.meFailures.length === 0 && hang.meProbes > 0,
          detail: `${hang.meProbes - hang.meFailures.length}/${hang.meProbes} probes 200, p50 ${hang.meP50Ms.toFixed(0)} ms, max ${hang.meMaxMs.toFixed(0)} ms`,
        },
        {
          name: `while Google hung: no transaction held across a Google call (none open ≥ the ${options.googleTimeoutMs} ms Google timeout)`,
          ok: hang.oldestTransactionMs < options.googleTimeoutMs && hang.databaseSamples > 0,
          detail: `${hang.databaseSamples} samples of pg_stat_activity: oldest transaction ${hang.oldestTransactionMs.toFixed(0)} ms, at most ${hang.maxIdleInTransaction} idle in transaction at once`,
        },
        { name: 'the hang was exercised (requests reached the hung token endpoint)', ok: injector.hung > 0, detail: `${injector.hung} request(s)` },
      );
    }
    if (kill) {
      kill.sessionsAtEnd = (await cluster.serverStats()).get('app2')?.sessions ?? 0;
      checks.push(
        {
          name: 'HAProxy took the killed instance out (health checks) and back after its restart, in both backends',
          ok: kill.down && kill.up,
          detail: kill.detail || 'no transition logged',
        },
        {
          name: 'the restarted instance served requests again (HAProxy stats: app2 sessions)',
          ok: kill.sessionsAtEnd > kill.sessionsAfterUp,
          detail: `${kill.sessionsBefore} before the kill, ${kill.sessionsAfterUp} when back up, ${kill.sessionsAtEnd} at the end`,
        },
        failedRequestsCheck(world.kills, world.failures, kill.callbacksInFlight),
        survivorErrorsCheck(await cluster.serverErrors(), kill.victim),
      );
    }
    // A grant still live would be fine only while its revocation is queued: after the settle, none is.
    const queued = new Set(
      (await database.query<{ id: string; token: string }>('SELECT id::text AS id, token FROM google_revocations')).map((row) =>
        keyRing.open(row.token, { column: 'google_revocations.token', owner: row.id }),
      ),
    );
    const live = world.retiredGrants.filter((token) => google.isLive(token));
    const alive = live.filter((token) => !queued.has(token)).length;
    checks.push({
      name: 'every unlinked or replaced grant is revoked at Google (or its revocation still queued)',
      ok: alive === 0 && live.length === 0,
      detail: `${live.length} of ${world.retiredGrants.length} still live, ${live.length - alive} of them queued`,
    });
    const unexpected = cluster.everyApp.flatMap((app) => app.logs).filter((line) => /"msg":"(Unexpected failure|Database unavailable)/.test(line)).length;
    checks.push({ name: 'no unexpected failure in the service log', ok: unexpected === 0, detail: `${unexpected} line(s)` });
    const exitCodes = await cluster.stop();
    checks.push({
      name: 'the service shut down cleanly',
      ok: exitCodes.every((code) => code === 0),
      detail: `exit code(s) ${exitCodes.join(', ')}`,
    });

    console.log(
      `\nsoak summary: ${loadSeconds.toFixed(0)} s of load, ${cycles} cycles by ${options.people} people, fault rate ${options.faultRate}, ${options.instances} instance(s), fault ${options.fault}\n`,
    );
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
    await topology?.stop();
    await receiver.stop();
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
