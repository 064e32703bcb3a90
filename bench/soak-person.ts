import { createHash } from 'node:crypto';
import type { KeyRing } from '../src/crypto/key-ring';
import type { TestDatabase } from '../test/support/database';
import { within } from '../test/support/deadline';
import type { ConsentChoice, FakeGoogle } from '../test/support/fake-google';
import { HttpClient, Reply } from '../test/support/http-client';

/** Counts of outcomes per step, for the summary table. */
export class Tally {
  private readonly counts = new Map<string, Map<string, number>>();

  add(step: string, outcome: string): void {
    const outcomes = this.counts.get(step) ?? new Map<string, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.counts.set(step, outcomes);
  }

  rows(): Array<{ step: string; total: number; outcomes: string }> {
    return [...this.counts].map(([step, outcomes]) => ({
      step,
      total: [...outcomes.values()].reduce((sum, count) => sum + count, 0),
      outcomes: [...outcomes]
        .sort((a, b) => b[1] - a[1])
        .map(([outcome, count]) => `${outcome} ${count}`)
        .join(', '),
    }));
  }
}

/** What every simulated person shares: the service, the fake Google, and where findings go. */
export interface SoakWorld {
  serviceUrl: string;
  google: FakeGoogle;
  database: TestDatabase;
  tally: Tally;
  /** SHA-256 of every state a browser presented at the callback: each must be used up in oauth_states. */
  presentedStates: Buffer[];
  /** Refresh tokens of grants the service was asked to let go (unlink, relink elsewhere): each must end up dead at Google. Never printed. */
  retiredGrants: string[];
  keyRing: KeyRing;
  /** Anything a client saw that the SPEC does not allow (a 5xx other than 502 google_unavailable, a hang, a JSON callback…). */
  violations: string[];
  requestDeadlineMs: number;
  /** Each instance killed: when the signal was sent and when its exit was seen (ms since the epoch; Infinity until then). */
  kills: Kill[];
  /**
   * Every request that failed at the connection (closed, reset) or with the balancer's own 502/503/504.
   * One in flight at a kill (sent before the instance was gone, unanswered when it was signalled) is
   * allowed; any other is a violation (see failedInFlight).
   */
  failures: RequestFailure[];
  /** Callbacks being answered right now (the kill waits for some). */
  callbacksInFlight: number;
  /** Every refresh token seen stored for a Google account (google_user_id), for the lost-revocation check. Never printed. */
  storedGrants: Map<string, Set<string>>;
}

export interface Kill {
  at: number;
  exitedAt: number;
}

export interface RequestFailure {
  step: string;
  what: string;
  sentAt: number;
  failedAt: number;
}

/**
 * The kill a failed request was in flight at, if any: sent before the killed instance was gone (its
 * exit seen: until then a connection could still reach its listening socket) and not answered when
 * the signal was sent. A request sent after that, or failed before it, was not cut by the kill.
 */
export function killInFlight(kills: Kill[], failure: Pick<RequestFailure, 'sentAt' | 'failedAt'>): Kill | undefined {
  return kills.find((kill) => failure.sentAt <= kill.exitedAt && kill.at <= failure.failedAt);
}

export function rememberGrant(world: SoakWorld, googleUserId: string, refreshToken: string): void {
  const tokens = world.storedGrants.get(googleUserId) ?? new Set<string>();
  tokens.add(refreshToken);
  world.storedGrants.set(googleUserId, tokens);
}

const SIGN_IN = '/api/v1/auth/google';
const LINK = '/api/v1/auth/google/link';
const OOO = '/api/v1/users/me/google/out-of-office';
const MAX_ATTEMPTS = 6;

class StepFailed extends Error {}

/**
 * One simulated person with their own browser: signs in with Google, links a Google account (now
 * and then cancelling or granting too little first), reads out-of-office events with the access
 * token forced to expire so refreshes happen, sometimes relinks to another Google account, then
 * unlinks (or stays linked) and signs out. Google faults make steps fail; the person retries, as
 * people do, and every answer is checked against what the SPEC allows.
 */
export class SoakPerson {
  private readonly browser: HttpClient;
  private userId = '';

  constructor(
    private readonly world: SoakWorld,
    private readonly email: string,
  ) {
    this.browser = new HttpClient(world.serviceUrl, { origin: world.serviceUrl });
  }

  /** The whole cycle; 'aborted (step)' when a step failed for good (Google kept failing past the retries, or a violation). */
  async cycle(): Promise<string> {
    try {
      await this.signIn();
      await this.link(Math.random() < 0.1 ? 'cancel' : Math.random() < 0.1 ? 'partial' : 'full');
      await this.readOutOfOffice(1 + Math.floor(Math.random() * 3));
      if (Math.random() < 0.2) await this.link('other-account');
      if (Math.random() < 0.8) await this.unlink();
      await this.send('logout', () => this.browser.post('/api/v1/auth/logout'), [204]);
      return 'completed';
    } catch (error) {
      if (error instanceof StepFailed) return `aborted (${error.message})`;
      throw error;
    }
  }

  private async signIn(): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const start = await this.send('sign-in start', () => this.browser.get(SIGN_IN), [302]);
      const cancel = Math.random() < 0.05;
      const callbackUrl = await this.consent('sign-in', start.location!, { email: this.email, cancel });
      if (!callbackUrl) continue;
      const reply = await this.callback('sign-in callback', callbackUrl);
      const reason = new URL(reply.location!).searchParams.get('reason');
      const outcome = reason ?? 'success';
      this.world.tally.add('sign-in callback', outcome);
      if (outcome === 'success' && this.browser.cookies.has('sid')) {
        const me = await this.send('users/me', () => this.browser.get('/api/v1/users/me'), [200]);
        this.userId = me.json<{ id: string }>().id;
        return;
      }
      const expected = reason === 'google_error' || (cancel && reason === 'access_denied');
      if (!expected) this.violation(`sign-in callback ended with ${outcome}`);
    }
    throw new StepFailed('sign-in: Google kept failing');
  }

  private async link(kind: 'full' | 'cancel' | 'partial' | 'other-account'): Promise<void> {
    let choice = kind;
    const replaced = kind === 'other-account' ? await this.storedRefreshToken() : undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const start = await this.send('link start', () => this.browser.get(LINK), [200]);
      const email = choice === 'other-account' ? `other-${this.email}` : this.email;
      const decision: ConsentChoice = { email, cancel: choice === 'cancel', grantScopes: choice === 'partial' ? [] : undefined };
      const callbackUrl = await this.consent('link', start.json<{ url: string }>().url, decision);
      if (!callbackUrl) continue;
      const reply = await this.callback('link callback', callbackUrl);
      const location = new URL(reply.location!);
      const outcome = location.searchParams.get('google_link') === 'success' ? 'success' : (location.searchParams.get('reason') ?? 'none');
      this.world.tally.add(`link callback (${kind})`, outcome);
      if (outcome === 'success') {
        if (replaced) this.world.retiredGrants.push(replaced);
        return;
      }
      // A partial grant may still succeed: include_granted_scopes merges an earlier full grant.
      const expected =
        outcome === 'google_error' || (choice === 'cancel' && outcome === 'access_denied') || (choice === 'partial' && outcome === 'missing_scopes');
      if (!expected) this.violation(`link callback (${kind}) ended with ${outcome}`);
      if (outcome !== 'google_error') choice = kind === 'other-account' ? 'other-account' : 'full';
    }
    throw new StepFailed('link: Google kept failing');
  }

  private async readOutOfOffice(times: number): Promise<void> {
    for (let read = 0; read < times; read += 1) {
      // Forced expiry: the next read must refresh the access token at Google.
      if (Math.random() < 0.6)
        await this.world.database.query(`UPDATE google_oauth2_users SET access_token_expires_at = now() WHERE user_id = $1`, [this.userId]);
      const reply = await this.send('out-of-office', () => this.browser.get(OOO), [200, 502]);
      if (reply.status === 502 && reply.json<{ code?: string }>().code !== 'google_unavailable')
        this.violation(`out-of-office 502 with ${reply.body.slice(0, 120)}`);
    }
  }

  private async unlink(): Promise<void> {
    const linked = await this.storedRefreshToken();
    await this.send('unlink', () => this.browser.delete('/api/v1/users/me/google'), [204]);
    if (linked) this.world.retiredGrants.push(linked);
    const me = await this.send('users/me', () => this.browser.get('/api/v1/users/me'), [200]);
    if (me.json<{ googleAccount: unknown }>().googleAccount !== null) this.violation('the link survived a 204 unlink');
  }

  private async storedRefreshToken(): Promise<string | undefined> {
    const [row] = await this.world.database.query<{ refresh_token: string; google_user_id: string }>(
      'SELECT refresh_token, google_user_id FROM google_oauth2_users WHERE user_id = $1',
      [this.userId],
    );
    if (!row) return undefined;
    const token = this.world.keyRing.open(row.refresh_token, { column: 'google_oauth2_users.refresh_token', owner: this.userId });
    rememberGrant(this.world, row.google_user_id, token);
    return token;
  }

  /** Plays the person at Google's consent screen; undefined when Google showed an error page. */
  private async consent(flow: string, authorizationUrl: string, choice: ConsentChoice): Promise<string | undefined> {
    try {
      return await this.world.google.consent(authorizationUrl, choice);
    } catch {
      this.world.tally.add(`${flow} consent`, 'google error page');
      return undefined;
    }
  }

  /** The callback: always a 302 to the web app, never JSON. */
  private async callback(step: string, callbackUrl: string): Promise<Reply> {
    const state = new URL(callbackUrl).searchParams.get('state');
    this.world.callbacksInFlight += 1;
    const reply = await this.request(step, () => this.browser.get(callbackUrl)).finally(() => (this.world.callbacksInFlight -= 1));
    // A callback that reached an instance killed before it answered may leave its state unused: only answered ones count.
    if (state) this.world.presentedStates.push(createHash('sha256').update(state).digest());
    if (reply.status !== 302 || !reply.location) {
      this.violation(`${step} answered ${reply.status} instead of a redirect`);
      throw new StepFailed(step);
    }
    return reply;
  }

  /** A request whose status must be one of `allowed`; anything else is recorded and ends the cycle. */
  private async send(step: string, call: () => Promise<Reply>, allowed: number[]): Promise<Reply> {
    const reply = await this.request(step, call);
    this.world.tally.add(step, String(reply.status));
    if (!allowed.includes(reply.status)) {
      this.violation(`${step} answered ${reply.status}: ${reply.body.slice(0, 160)}`);
      throw new StepFailed(step);
    }
    return reply;
  }

  private async request(step: string, call: () => Promise<Reply>): Promise<Reply> {
    const sentAt = Date.now();
    let reply: Reply;
    try {
      reply = await within(this.world.requestDeadlineMs, call);
    } catch (error) {
      this.failed(step, (error as Error).message, sentAt);
    }
    // The balancer's own 502/503/504 (HTML, not the service's JSON): no instance answered.
    const fromBalancer = reply.status >= 502 && reply.status <= 504 && !reply.headers.get('content-type')?.includes('json');
    if (fromBalancer) this.failed(step, `balancer answered ${reply.status}`, sentAt);
    return reply;
  }

  /** A request no instance answered: recorded; a violation too unless it was in flight at a kill. Ends the cycle. */
  private failed(step: string, what: string, sentAt: number): never {
    const failure = { step, what, sentAt, failedAt: Date.now() };
    this.world.failures.push(failure);
    if (killInFlight(this.world.kills, failure)) throw new StepFailed(`${step} in flight on the killed instance`);
    this.violation(`${step}: ${what}`);
    throw new StepFailed(step);
  }

  private violation(what: string): void {
    const kill = this.world.kills.at(-1);
    this.world.violations.push(kill === undefined ? what : `${what} (${Date.now() - kill.at} ms after the kill)`);
  }
}
