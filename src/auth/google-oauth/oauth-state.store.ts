import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DatabaseError } from 'pg';
import { LessThan, Repository } from 'typeorm';
import { DomainError } from '../../common/domain-error';
import { AppConfig } from '../../config/app-config';
import { KeyRing } from '../../crypto/key-ring';
import { SealedSecret } from '../../crypto/sealed-secret';
import { hashSecretToken, isSecretToken, newSecretToken } from '../secret-token';
import { OAuthPurpose, OAuthState } from './oauth-state.entity';
import { CODE_VERIFIER_COLUMN, NewStateRow, OAuthStateWriter } from './oauth-state.writer';

export interface NewState {
  purpose: OAuthPurpose;
  userId: string | null;
  /** The session that started a link (its flows go when it is signed out); null for a sign-in. */
  sessionId: string | null;
  browserSecret: string;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

/** A presented state, found and accepted (and so used up): what the rest of its flow needs. */
export interface ConsumedState {
  purpose: OAuthPurpose;
  userId: string | null;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

/**
 * Who the callback's browser is signed in as: a user, nobody, or `unusable`: several session
 * cookies, or one that does not resolve. A link never takes `unusable` for nobody.
 */
export type CallbackSession = { userId: string; sessionId: string } | 'none' | 'unusable';

export type StateProblem = 'missing' | 'unknown' | 'used' | 'expired' | 'other_browser' | 'other_user' | 'unusable_session';

/** `purpose` is known when the presented state named a real flow. */
export type StateCheck = { kind: 'consumed'; state: ConsumedState } | { kind: 'rejected'; purpose: OAuthPurpose | null; problem: StateProblem };

/** The request GoogleStrategy hands passport for a code exchange: the code, and the state consumed for it. */
export interface CodeExchangeRequest {
  query: { code: string };
  body: Record<string, never>;
  consumedState: ConsumedState;
}

interface PresentedRow {
  id: string;
  purpose: OAuthPurpose;
  user_id: string | null;
  browser_hash: Buffer;
  code_verifier: string | null;
  nonce: string | null;
  next_path: string | null;
  expires_at: Date;
  used_at: Date | null;
}

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * One statement: lock the presented state, mark it used and wipe its secrets, and answer what the
 * row held before. Of two concurrent callbacks with one state, the second waits on the lock and
 * then reads the row as used.
 */
const CONSUME = `
  WITH presented AS MATERIALIZED (
    SELECT id, purpose, user_id, browser_hash, code_verifier, nonce, next_path, expires_at, used_at
      FROM oauth_states WHERE state_hash = $1 FOR UPDATE
  ), used AS (
    UPDATE oauth_states SET used_at = now(), code_verifier = NULL, nonce = NULL
     WHERE id IN (SELECT id FROM presented WHERE used_at IS NULL)
  )
  SELECT * FROM presented`;

type Stored = (error: Error | null, state?: string) => void;
type Verified = (error: Error | null, codeVerifier?: string | false, info?: { message: string }) => void;

/**
 * OAuth state tokens: 256 random bits, stored only as a SHA-256, bound to the browser (a cookie
 * secret) and to the user who started a link, short-lived, and used up by one locking statement, so
 * two concurrent callbacks with one state cannot both proceed. It is also passport-oauth2's state
 * store (`store` and `verify`, with `pkce: true`), which is how the PKCE verifier reaches it.
 */
@Injectable()
export class OAuthStateStore {
  constructor(
    @InjectRepository(OAuthState) private readonly states: Repository<OAuthState>,
    private readonly writer: OAuthStateWriter,
    private readonly keyRing: KeyRing,
    private readonly config: AppConfig,
  ) {}

  async create(state: NewState): Promise<string> {
    const token = newSecretToken();
    // The id is chosen here so that the code verifier can be sealed for its row.
    const id = randomUUID();
    await this.insert({
      id,
      stateHash: hashSecretToken(token),
      purpose: state.purpose,
      userId: state.userId,
      sessionId: state.sessionId,
      browserHash: hashSecretToken(state.browserSecret),
      codeVerifier: SealedSecret.for(id, state.codeVerifier),
      nonce: state.nonce,
      nextPath: state.nextPath,
      expiresAt: new Date(Date.now() + this.config.stateTtlSeconds * 1000),
    });
    return token;
  }

  /**
   * A link's session (or its user) deleted while the flow starts, as logout-all racing it: the flow
   * would have gone with it, so it is refused as that session now is.
   */
  private async insert(state: NewStateRow): Promise<void> {
    try {
      await this.writer.insert(state);
    } catch (error) {
      if (error instanceof DatabaseError && error.code === FOREIGN_KEY_VIOLATION) {
        throw new DomainError('unauthenticated', 'The session has ended; sign in again');
      }
      throw error;
    }
  }

  /**
   * Uses the state up whatever happens next: it can never be presented again. A used state keeps
   * its purpose (not its secrets) until it is purged, so a replay (Back after signing in) is
   * answered in its own flow.
   */
  async consume(token: unknown, browserSecret: string | undefined, session: CallbackSession): Promise<StateCheck> {
    if (typeof token !== 'string' || token === '') return { kind: 'rejected', purpose: null, problem: 'missing' };
    if (!isSecretToken(token)) return { kind: 'rejected', purpose: null, problem: 'unknown' };
    const [row]: PresentedRow[] = await this.states.query(CONSUME, [hashSecretToken(token)]);
    if (!row) return { kind: 'rejected', purpose: null, problem: 'unknown' };
    const { purpose } = row;
    if (row.used_at !== null) return { kind: 'rejected', purpose, problem: 'used' };
    if (row.expires_at.getTime() <= Date.now()) return { kind: 'rejected', purpose, problem: 'expired' };
    if (!browserSecret || !hashSecretToken(browserSecret).equals(row.browser_hash)) return { kind: 'rejected', purpose, problem: 'other_browser' };
    // The binding cookie proves the browser; a session on it must be the user who started the link.
    // (No session is fine: a web app on another origin may authenticate its API calls with Bearer
    // tokens. A session cookie that names no one, or several, is not "no session": it may be planted.)
    if (purpose === 'link' && session !== 'none') {
      if (session === 'unusable') return { kind: 'rejected', purpose, problem: 'unusable_session' };
      if (row.user_id !== session.userId) return { kind: 'rejected', purpose, problem: 'other_user' };
    }
    return {
      kind: 'consumed',
      state: {
        purpose,
        userId: row.user_id,
        codeVerifier: this.keyRing.open(row.code_verifier!, { column: CODE_VERIFIER_COLUMN, owner: row.id }),
        nonce: row.nonce!,
        nextPath: row.next_path,
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
