import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { KeyRing } from '../../crypto/key-ring';
import { SealedSecret } from '../../crypto/sealed-secret';
import { hashSecretToken, isSecretToken, newSecretToken } from '../secret-token';
import { OAuthPurpose, OAuthState } from './oauth-state.entity';

export interface NewState {
  purpose: OAuthPurpose;
  userId: string | null;
  browserSecret: string;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

/** A presented state, found and accepted (and so gone): what the rest of its flow needs. */
export interface ConsumedState {
  purpose: OAuthPurpose;
  userId: string | null;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

export type StateProblem = 'missing' | 'unknown' | 'expired' | 'other_browser' | 'other_user';

/** `purpose` is known when the presented state named a real flow. */
export type StateCheck = { kind: 'consumed'; state: ConsumedState } | { kind: 'rejected'; purpose: OAuthPurpose | null; problem: StateProblem };

/** The request GoogleStrategy hands passport for a code exchange: the code, and the state consumed for it. */
export interface CodeExchangeRequest {
  query: { code: string };
  body: Record<string, never>;
  consumedState: ConsumedState;
}

type Stored = (error: Error | null, state?: string) => void;
type Verified = (error: Error | null, codeVerifier?: string | false, info?: { message: string }) => void;

/**
 * OAuth state tokens: 256 random bits, stored only as a SHA-256, bound to the browser (a cookie
 * secret) and to the user who started a link, short-lived, and consumed by a single DELETE … RETURNING,
 * so two concurrent callbacks with one state cannot both proceed. It is also passport-oauth2's state
 * store (`store` and `verify`, with `pkce: true`), which is how the PKCE verifier reaches it.
 */
@Injectable()
export class OAuthStateStore {
  constructor(
    @InjectRepository(OAuthState) private readonly states: Repository<OAuthState>,
    private readonly keyRing: KeyRing,
    private readonly config: AppConfig,
  ) {}

  async create(state: NewState): Promise<string> {
    const token = newSecretToken();
    // The id is chosen here so that the code verifier can be sealed for its row.
    const id = randomUUID();
    await this.states.insert({
      id,
      stateHash: hashSecretToken(token),
      purpose: state.purpose,
      userId: state.userId,
      browserHash: hashSecretToken(state.browserSecret),
      codeVerifier: SealedSecret.for(id, state.codeVerifier),
      nonce: state.nonce,
      nextPath: state.nextPath,
      expiresAt: new Date(Date.now() + this.config.stateTtlSeconds * 1000),
    });
    return token;
  }

  /** Consumes the state whatever happens next: it can never be presented again. */
  async consume(token: unknown, browserSecret: string | undefined, sessionUserId: string | null): Promise<StateCheck> {
    if (typeof token !== 'string' || token === '') return { kind: 'rejected', purpose: null, problem: 'missing' };
    if (!isSecretToken(token)) return { kind: 'rejected', purpose: null, problem: 'unknown' };
    // For DELETE, TypeORM's postgres driver answers [rows, affected].
    const [rows]: [Array<Record<string, unknown>>, number] = await this.states.query(
      `DELETE FROM oauth_states WHERE state_hash = $1
       RETURNING id, purpose, user_id, browser_hash, code_verifier, nonce, next_path, expires_at`,
      [hashSecretToken(token)],
    );
    const row = rows[0];
    if (!row) return { kind: 'rejected', purpose: null, problem: 'unknown' };
    const purpose = row.purpose as OAuthPurpose;
    if ((row.expires_at as Date).getTime() <= Date.now()) return { kind: 'rejected', purpose, problem: 'expired' };
    if (!browserSecret || !hashSecretToken(browserSecret).equals(row.browser_hash as Buffer)) return { kind: 'rejected', purpose, problem: 'other_browser' };
    // The binding cookie proves the browser; a session on it must be the user who started the link.
    // (No session is fine: a web app on another origin may authenticate its API calls with Bearer tokens.)
    if (purpose === 'link' && sessionUserId !== null && row.user_id !== sessionUserId) return { kind: 'rejected', purpose, problem: 'other_user' };
    return {
      kind: 'consumed',
      state: {
        purpose,
        userId: row.user_id as string | null,
        codeVerifier: this.keyRing.open(row.code_verifier as string, { column: 'oauth_states.code_verifier', owner: row.id as string }),
        nonce: row.nonce as string,
        nextPath: row.next_path as string | null,
      },
    };
  }

  async purgeExpired(): Promise<number> {
    const result = await this.states.delete({ expiresAt: LessThan(new Date()) });
    return result.affected ?? 0;
  }

  /** passport-oauth2, starting a flow: persists it with passport's PKCE verifier (arity 5 asks for the verifier). */
  store(_request: unknown, codeVerifier: string, state: Omit<NewState, 'codeVerifier'>, _meta: unknown, done: Stored): void {
    this.create({ ...state, codeVerifier }).then(
      (token) => done(null, token),
      (error: Error) => done(error),
    );
  }

  /**
   * passport-oauth2, on a callback's code: the state was consumed before passport ran (a cancelled
   * or failed callback must use it up too, and passport sees only callbacks with a code), so this
   * hands back the verifier of that consumed state, and refuses any request that carries none.
   */
  verify(request: Partial<CodeExchangeRequest>, _providedState: unknown, done: Verified): void {
    if (request.consumedState) done(null, request.consumedState.codeVerifier);
    else done(null, false, { message: 'invalid_state' });
  }
}
