import { Column, CreateDateColumn, Entity, Index, JoinColumn, OneToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { encryptedColumn } from '../crypto/encrypted-column.transformer';
import { SealedSecret } from '../crypto/sealed-secret';
import { User } from './user.entity';

export type GoogleLinkStatus = 'active' | 'needs_reauth';

/**
 * A user's linked Google account and the delegated tokens for it. The token columns hold
 * AES-256-GCM envelopes bound to the row's `user_id` (see src/crypto): open them with the row's
 * own `userId`. Never filter a query on them. Both are null once Google revoked the grant (Cross-Account
 * Protection's tokens-revoked): the link then only waits to be connected again.
 */
@Entity('google_oauth2_users')
@Index('google_oauth2_users_user_created_idx', ['userCreatedAt', 'userId'])
@Index('google_oauth2_users_refresh_due_idx', ['tokensRefreshedAt', 'id'], { where: `"status" = 'active'` })
export class GoogleOAuth2User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Unique through the one-to-one relation: a user has at most one link. */
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /**
   * The user's `created_at`, copied: the admin list of linked users pages through this table's
   * index in the users' order, instead of walking every user to find the linked ones.
   */
  @Column({ name: 'user_created_at', type: 'timestamptz', precision: 3 })
  userCreatedAt: Date;

  @OneToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;

  /** The Google account's `sub`: one Google account links to one user at most. */
  @Column({ name: 'google_user_id', type: 'varchar', length: 255, unique: true })
  googleUserId: string;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'access_token', type: 'text', transformer: encryptedColumn('google_oauth2_users.access_token', { boundTo: 'user_id' }), nullable: true })
  accessToken: SealedSecret | null;

  @Column({ name: 'refresh_token', type: 'text', transformer: encryptedColumn('google_oauth2_users.refresh_token', { boundTo: 'user_id' }), nullable: true })
  refreshToken: SealedSecret | null;

  @Column({ name: 'access_token_expires_at', type: 'timestamptz' })
  accessTokenExpiresAt: Date;

  /**
   * When tokens were last obtained from Google (the link, or a refresh): the background link-health
   * check refreshes an active link whose tokens are older than GOOGLE_GRANT_CHECK_DAYS.
   */
  @Column({ name: 'tokens_refreshed_at', type: 'timestamptz', default: () => 'now()' })
  tokensRefreshedAt: Date;

  /** The granted scopes, space-separated, as Google reports them. */
  @Column({ name: 'oauth_scope', type: 'text' })
  oauthScope: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: GoogleLinkStatus;

  /**
   * The refresh lease: who may call Google's token endpoint for this link right now, and until when
   * (see GoogleAccessTokensService). Claimed and released by single statements, never held in a
   * transaction; an expired lease is free (its holder crashed or hung).
   */
  @Column({ name: 'refresh_lease_id', type: 'uuid', nullable: true, select: false })
  refreshLeaseId?: string | null;

  @Column({ name: 'refresh_lease_until', type: 'timestamptz', nullable: true, select: false })
  refreshLeaseUntil?: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
