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

/** The Cross-Account Protection actions users/me puts into words (sessions_revoked signs the person out: nothing to show them signed in). */
export const GOOGLE_NOTICE_ACTIONS: AuditAction[] = [
  'google.tokens_revoked',
  'google.account_disabled',
  'google.account_enabled',
  'google.credential_change_required',
];
/** `action IN (…)` over GOOGLE_NOTICE_ACTIONS: the users/me notice's filter and its partial index's predicate. */
export const GOOGLE_NOTICE_FILTER = (column: string) => `${column} IN (${GOOGLE_NOTICE_ACTIONS.map((action) => `'${action}'`).join(', ')})`;

/** An append-only record of who did what; kept when the user is deleted. */
@Entity('audit_events')
@Index('audit_events_created_idx', ['createdAt', 'id'])
@Index('audit_events_user_created_idx', ['userId', 'createdAt', 'id'])
// users/me reads a user's latest notice action on every load: by this index, whatever else the user did.
@Index('audit_events_google_notice_idx', ['userId', 'createdAt', 'id'], { where: GOOGLE_NOTICE_FILTER('action') })
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
