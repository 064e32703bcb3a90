import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KeyRing } from '../../crypto/key-ring';
import type { SealedSecret } from '../../crypto/sealed-secret';
import { PreparedStatement } from '../../database/prepared-statement';
import type { OAuthState } from './oauth-state.entity';

export const CODE_VERIFIER_COLUMN = 'oauth_states.code_verifier';

/** A new state row, as OAuthStateStore builds it: hashes only, the verifier sealed for this row. */
export type NewStateRow = Pick<OAuthState, 'id' | 'stateHash' | 'purpose' | 'userId' | 'sessionId' | 'browserHash' | 'nonce' | 'nextPath' | 'expiresAt'> & {
  codeVerifier: SealedSecret;
};

/**
 * Every sign-in and link start writes one: fixed SQL, prepared once per connection, instead of
 * TypeORM building the same INSERT on every request (about a tenth of a link start's CPU in a
 * profile, BENCHMARKS.md). The verifier is sealed as the entity's column transformer seals it.
 */
const INSERT = new PreparedStatement(
  'oauth_state_insert',
  `INSERT INTO oauth_states (id, state_hash, purpose, user_id, session_id, browser_hash, code_verifier, nonce, next_path, expires_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
);

/** Errors are node-postgres's own (`DatabaseError` with its SQLSTATE `code`), not TypeORM's. */
@Injectable()
export class OAuthStateWriter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
  ) {}

  async insert(row: NewStateRow): Promise<void> {
    await INSERT.rows(this.dataSource, [
      row.id,
      row.stateHash,
      row.purpose,
      row.userId,
      row.sessionId,
      row.browserHash,
      row.codeVerifier.sealIn(CODE_VERIFIER_COLUMN, this.keyRing),
      row.nonce,
      row.nextPath,
      row.expiresAt,
    ]);
  }
}
