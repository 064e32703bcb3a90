import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { KeyRing } from '../crypto/key-ring';
import { SealedSecret } from '../crypto/sealed-secret';
import { OAuthPurpose, OAuthState } from './oauth-state.entity';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const sha256 = (value: string) => createHash('sha256').update(value).digest();

export interface NewState {
  purpose: OAuthPurpose;
  userId: string | null;
  browserSecret: string;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

export interface ConsumedState {
  purpose: OAuthPurpose;
  userId: string | null;
  codeVerifier: string;
  nonce: string;
  nextPath: string | null;
}

/** Why a presented state cannot be used; `purpose` is known when the state named a real flow. */
export interface RejectedState {
  purpose: OAuthPurpose | null;
  problem: 'missing' | 'unknown' | 'expired' | 'other_browser' | 'other_user';
}

export const newSecret = () => randomBytes(32).toString('base64url');

/**
 * OAuth state tokens: 256 random bits, stored only as a SHA-256, bound to the browser (a cookie
 * secret) and to the user who started a link, short-lived, and consumed by a single DELETE … RETURNING,
 * so two concurrent callbacks with one state cannot both proceed.
 */
@Injectable()
export class OAuthStatesService {
  constructor(
    @InjectRepository(OAuthState) private readonly states: Repository<OAuthState>,
    private readonly keyRing: KeyRing,
    private readonly config: AppConfig,
  ) {}

  async create(state: NewState): Promise<string> {
    const token = newSecret();
    // The id is chosen here so that the code verifier can be sealed for its row.
    const id = randomUUID();
    await this.states.insert({
      id,
      stateHash: sha256(token),
      purpose: state.purpose,
      userId: state.userId,
      browserHash: sha256(state.browserSecret),
      codeVerifier: SealedSecret.for(id, state.codeVerifier),
      nonce: state.nonce,
      nextPath: state.nextPath,
      expiresAt: new Date(Date.now() + this.config.stateTtlSeconds * 1000),
    });
    return token;
  }

  /** Consumes the state whatever happens next: it can never be presented again. */
  async consume(token: unknown, browserSecret: string | undefined, sessionUserId: string | null): Promise<ConsumedState | RejectedState> {
    if (typeof token !== 'string' || token === '') return { purpose: null, problem: 'missing' };
    if (!TOKEN_PATTERN.test(token)) return { purpose: null, problem: 'unknown' };
    // For DELETE, TypeORM's postgres driver answers [rows, affected].
    const [rows]: [Array<Record<string, unknown>>, number] = await this.states.query(
      `DELETE FROM oauth_states WHERE state_hash = $1
       RETURNING id, purpose, user_id, browser_hash, code_verifier, nonce, next_path, expires_at`,
      [sha256(token)],
    );
    const row = rows[0];
    if (!row) return { purpose: null, problem: 'unknown' };
    const purpose = row.purpose as OAuthPurpose;
    if ((row.expires_at as Date).getTime() <= Date.now()) return { purpose, problem: 'expired' };
    if (!browserSecret || !sha256(browserSecret).equals(row.browser_hash as Buffer)) return { purpose, problem: 'other_browser' };
    // The binding cookie proves the browser; a session on it must be the user who started the link.
    // (No session is fine: a web app on another origin may authenticate its API calls with Bearer tokens.)
    if (purpose === 'link' && sessionUserId !== null && row.user_id !== sessionUserId) return { purpose, problem: 'other_user' };
    return {
      purpose,
      userId: row.user_id as string | null,
      codeVerifier: this.keyRing.open(row.code_verifier as string, { column: 'oauth_states.code_verifier', owner: row.id as string }),
      nonce: row.nonce as string,
      nextPath: row.next_path as string | null,
    };
  }

  async purgeExpired(): Promise<number> {
    const result = await this.states.delete({ expiresAt: LessThan(new Date()) });
    return result.affected ?? 0;
  }
}

export const isConsumed = (state: ConsumedState | RejectedState): state is ConsumedState => !('problem' in state);
