import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Role } from '../common/request-context';

@Entity('users')
// ASCII-only, as the code lower-cases (common/email-address.ts): PostgreSQL's lower() folds other letters too.
@Check('users_email_ascii_lowercase', `"email" = translate("email", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`)
@Index('users_created_idx', ['createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Stored ASCII-lower-cased (normalizeEmail), so the unique constraint ignores A-Z case. */
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
