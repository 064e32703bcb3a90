import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A security event token received once: its `jti` is the key, so a replay finds it and applies nothing. */
@Entity('risc_events')
export class RiscEvent {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  jti: string;

  /** The event type URIs it carried, space-separated. */
  @Column({ name: 'event_types', type: 'text' })
  eventTypes: string;

  @Column({ name: 'google_user_id', type: 'varchar', length: 255, nullable: true })
  googleUserId: string | null;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;
}
