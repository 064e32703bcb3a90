import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { encryptedColumn } from '../../crypto/encrypted-column.transformer';
import { SealedSecret } from '../../crypto/sealed-secret';
import { User } from '../../users/user.entity';
import { Session } from '../sessions/session.entity';

export type OAuthPurpose = 'login' | 'link';

/**
 * An authorization request. The state token itself is never stored: only its SHA-256, and the hash
 * of the browser-binding cookie it must come back with. A used one keeps its purpose (so a replay is
 * answered in its flow) but not its secrets, until it expires and is purged.
 */
@Entity('oauth_states')
@Index('oauth_states_expires_idx', ['expiresAt'])
@Index('oauth_states_session_idx', ['sessionId'])
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

  /** The session that started a link: signing out (logout, logout-all) deletes the flows it left pending. */
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => Session, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'session_id' })
  session?: Session;

  @Column({ name: 'browser_hash', type: 'bytea' })
  browserHash: Buffer;

  /** Bound to this row's id (set before insert, so the value can be sealed for it); null once used. */
  @Column({ name: 'code_verifier', type: 'text', nullable: true, transformer: encryptedColumn('oauth_states.code_verifier', { boundTo: 'id' }) })
  codeVerifier: SealedSecret | null;

  /** Null once used. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  nonce: string | null;

  /** Where a sign-in returns to: a relative path, already checked. */
  @Column({ name: 'next_path', type: 'varchar', length: 512, nullable: true })
  nextPath: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  /** When a callback presented it: from then on it is refused, whatever the callback's outcome. */
  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt: Date | null;
}
