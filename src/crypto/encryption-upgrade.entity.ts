import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * One-time upgrades of the stored envelopes, recorded when a pass over every encrypted column has
 * finished. A recorded upgrade never runs again: after the v1 → v2 upgrade, a v1 value found in a
 * row (copied there, or restored from an old backup) is refused, never re-bound to that row.
 */
@Entity('encryption_upgrades')
export class EncryptionUpgrade {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @CreateDateColumn({ name: 'completed_at', type: 'timestamptz' })
  completedAt: Date;
}
