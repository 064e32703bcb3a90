import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsSelect, Repository } from 'typeorm';
import { GoogleOAuth2User } from './google-oauth2-user.entity';

/** A link as a refresh needs it, and who holds its refresh lease (the database's clock decides "held"). */
export interface LinkState {
  link: GoogleOAuth2User;
  leaseId: string | null;
  leaseHeld: boolean;
}

const STATE_COLUMNS = ['id', 'userId', 'googleUserId', 'accessToken', 'accessTokenExpiresAt', 'oauthScope', 'status'] as const;
const LEASED_COLUMNS: FindOptionsSelect<GoogleOAuth2User> = { ...Object.fromEntries(STATE_COLUMNS.map((name) => [name, true])), refreshToken: true };

/**
 * The refresh lease on a link: the right to call Google's token endpoint for it, for a bounded time.
 * Each operation is one short statement outside any transaction, so no database connection is held
 * while Google is called; the lease's expiry frees a link whose holder crashed or hung.
 */
@Injectable()
export class GoogleRefreshLeasesService {
  constructor(@InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>) {}

  /**
   * Claims the lease of the user's active link when it is free or expired: the link (refresh token
   * included) and the lease's id, or null when someone else holds it (or there is no active link).
   * Raw SQL on purpose: a claim is not a change of the link, so `updated_at` stays as it is.
   */
  async claim(userId: string, durationMs: number): Promise<{ link: GoogleOAuth2User; leaseId: string } | null> {
    const leaseId = randomUUID();
    const [rows] = await this.links.query<[Array<{ id: string }>, number]>(
      `UPDATE google_oauth2_users
          SET refresh_lease_id = $2, refresh_lease_until = now() + make_interval(secs => $3)
        WHERE user_id = $1 AND status = 'active' AND (refresh_lease_until IS NULL OR refresh_lease_until <= now())
        RETURNING id`,
      [userId, leaseId, durationMs / 1000],
    );
    if (rows.length === 0) return null;
    const link = await this.links.findOne({ where: { id: rows[0].id }, select: LEASED_COLUMNS });
    // Deleted (unlinked) between the two statements: nothing left to refresh.
    return link ? { link, leaseId } : null;
  }

  /** The link as it is now, with its lease; null when it is gone. */
  async state(userId: string): Promise<LinkState | null> {
    const { entities, raw } = await this.links
      .createQueryBuilder('link')
      .select(STATE_COLUMNS.map((name) => `link.${name}`))
      .addSelect('link.refresh_lease_id', 'lease_id')
      .addSelect('coalesce(link.refresh_lease_until > now(), false)', 'lease_held')
      .where('link.user_id = :userId', { userId })
      .getRawAndEntities<{ lease_id: string | null; lease_held: boolean }>();
    if (!entities[0]) return null;
    return { link: entities[0], leaseId: raw[0].lease_id, leaseHeld: raw[0].lease_held };
  }

  /**
   * Writes what the refresh obtained, only while the lease is still ours and the link still active
   * (compare-and-set): a holder whose lease expired and was taken over, a re-linked row (a new id)
   * or a link Google's security events disabled meanwhile is never overwritten. Frees the lease.
   */
  async complete(linkId: string, leaseId: string, changes: Partial<GoogleOAuth2User>): Promise<boolean> {
    const result = await this.links.update(
      { id: linkId, refreshLeaseId: leaseId, status: 'active' },
      { ...changes, refreshLeaseId: null, refreshLeaseUntil: null },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Frees the lease without a change, if it is still ours. */
  async release(linkId: string, leaseId: string): Promise<void> {
    await this.links.query(`UPDATE google_oauth2_users SET refresh_lease_id = NULL, refresh_lease_until = NULL WHERE id = $1 AND refresh_lease_id = $2`, [
      linkId,
      leaseId,
    ]);
  }
}
