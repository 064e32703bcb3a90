import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditAction =
  | 'user.created'
  | 'session.created'
  | 'google.linked'
  | 'google.relinked'
  | 'google.unlinked'
  | 'google.reauth_required'
  // A sign-in refused because the user is bound to another Google account: `googleUserId` is the refused sub.
  | 'google.account_mismatch'
  // Cross-Account Protection (src/risc): what Google reported about the account, and what was done.
  | 'google.sessions_revoked'
  | 'google.tokens_revoked'
  | 'google.account_disabled'
  | 'google.account_enabled'
  | 'google.credential_change_required';

/** An append-only record of who did what; kept when the user is deleted. */
@Entity('audit_events')
@Index('audit_events_created_idx', ['createdAt', 'id'])
@Index('audit_events_user_created_idx', ['userId', 'createdAt', 'id'])
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 64 })
  action: AuditAction;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'google_user_id', type: 'varchar', length: 255, nullable: true })
  googleUserId: string | null;

  /** Millisecond precision, so the keyset cursor (a JS Date) names a row exactly. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;
}
