import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { encryptedColumn } from '../crypto/encrypted-column.transformer';
import { SealedSecret } from '../crypto/sealed-secret';

/**
 * An outbox of grants to revoke at Google: written in the same transaction that deletes a link,
 * so a revocation that fails (Google unreachable, a crash) is retried until it succeeds.
 */
@Entity('google_revocations')
@Index('google_revocations_due_idx', ['nextAttemptAt'])
export class GoogleRevocation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Bound to this row's id (set by the service before insert, so the value can be sealed for it). */
  @Column({ type: 'text', transformer: encryptedColumn('google_revocations.token', { boundTo: 'id' }) })
  token: SealedSecret;

  @Column({ name: 'google_user_id', type: 'varchar', length: 255 })
  googleUserId: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
