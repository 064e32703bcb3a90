import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { encryptedColumn } from '../../crypto/encrypted-column.transformer';
import { SealedSecret } from '../../crypto/sealed-secret';
import { User } from '../../users/user.entity';

export type OAuthPurpose = 'login' | 'link';

/**
 * A pending authorization request. The state token itself is never stored: only its SHA-256,
 * and the hash of the browser-binding cookie it must come back with.
 */
@Entity('oauth_states')
@Index('oauth_states_expires_idx', ['expiresAt'])
export class OAuthState {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'state_hash', type: 'bytea', unique: true })
  stateHash: Buffer;

  @Column({ type: 'varchar', length: 16 })
  purpose: OAuthPurpose;

  /** The user who started a link; null for a sign-in. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column({ name: 'browser_hash', type: 'bytea' })
  browserHash: Buffer;

  /** Bound to this row's id (set before insert, so the value can be sealed for it). */
  @Column({ name: 'code_verifier', type: 'text', transformer: encryptedColumn('oauth_states.code_verifier', { boundTo: 'id' }) })
  codeVerifier: SealedSecret;

  @Column({ type: 'varchar', length: 64 })
  nonce: string;

  /** Where a sign-in returns to: a relative path, already checked. */
  @Column({ name: 'next_path', type: 'varchar', length: 512, nullable: true })
  nextPath: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
