import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { SessionRevokedReason } from '../../common/domain-error';
import { User } from '../../users/user.entity';

/**
 * A session Google's security event ended: the session itself is deleted (nothing can use it), and
 * this keeps only its token's hash, so the browser that still holds the cookie can be told why it
 * was signed out. Kept until the session would have expired, then purged.
 */
@Entity('revoked_sessions')
@Index('revoked_sessions_user_idx', ['userId'])
@Index('revoked_sessions_expires_idx', ['expiresAt'])
export class RevokedSession {
  @PrimaryColumn({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_revoked_sessions_user' })
  user?: User;

  @Column({ type: 'varchar', length: 32 })
  reason: SessionRevokedReason;

  @CreateDateColumn({ name: 'revoked_at', type: 'timestamptz' })
  revokedAt: Date;

  /** The ended session's own expiry: after it the cookie would have said nothing anyway. */
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
