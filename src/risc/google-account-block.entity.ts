import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A Google account Google reported disabled: keyed by its `sub`, so the refusal holds even for a
 * sub no user has yet. Deleted when Google reports it enabled again.
 */
@Entity('google_account_blocks')
export class GoogleAccountBlock {
  @PrimaryColumn({ name: 'google_user_id', type: 'varchar', length: 255 })
  googleUserId: string;

  @CreateDateColumn({ name: 'disabled_at', type: 'timestamptz' })
  disabledAt: Date;

  /** Google's `reason` (`hijacking`, `bulk-account`), when it gave one. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;
}
