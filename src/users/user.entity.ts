import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../common/request-context';

@Entity('users')
@Check('users_email_lowercase', `"email" = lower("email")`)
@Index('users_created_idx', ['createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored lower-cased, so the unique constraint is case-insensitive. */
  @Column({ type: 'varchar', length: 320, unique: true })
  email: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: Role;

  /** The Google identity (`sub`) this user signs in with. */
  @Column({ name: 'google_sub', type: 'varchar', length: 255, nullable: true, unique: true })
  googleSub: string | null;

  /** Millisecond precision, so the keyset cursor (a JS Date) names a row exactly. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
