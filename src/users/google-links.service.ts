import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, FindOptionsSelect, QueryFailedError, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { normalizeEmail } from '../common/email-address';
import { SealedSecret } from '../crypto/sealed-secret';
import { UndecryptableError } from '../crypto/token-cipher';
import { MetricsService } from '../metrics/metrics.service';
import { AuditService } from './audit.service';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
import { GoogleRevocationsService } from './google-revocations.service';
import { LinkRefusedError } from './link-refused.error';
import { User } from './user.entity';

export interface NewLink {
  userId: string;
  googleUserId: string;
  email: string;
  accessToken: string;
  /** Absent when Google sent none (a re-consent): the stored one for the same account is kept. */
  refreshToken: string | undefined;
  expiresIn: number;
  scope: string;
}

/** The non-secret columns: what views and lists read, so they never decrypt a token. */
export const LINK_SUMMARY_COLUMNS: FindOptionsSelect<GoogleOAuth2User> = {
  userId: true,
  googleUserId: true,
  email: true,
  oauthScope: true,
  status: true,
  createdAt: true,
};

const isUniqueViolation = (error: unknown) => error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505';

/** Stores, replaces and removes Google links; every change is one transaction with its audit event. */
@Injectable()
export class GoogleLinksService implements OnModuleInit {
  private readonly logger = new Logger(GoogleLinksService.name);

  constructor(
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly audit: AuditService,
    private readonly revocations: GoogleRevocationsService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.registerActiveLinksCollector(() => this.links.countBy({ status: 'active' }));
  }

  findSummary(userId: string): Promise<GoogleOAuth2User | null> {
    return this.links.findOne({ where: { userId }, select: LINK_SUMMARY_COLUMNS });
  }

  /** The user id holding a Google account, if any. */
  async holderOf(googleUserId: string): Promise<string | null> {
    const link = await this.links.findOne({ where: { googleUserId }, select: { userId: true } });
    return link?.userId ?? null;
  }

  /**
   * Links (or re-links) a Google account. A previous link to a different Google account is
   * replaced and its grant queued for revocation at Google, all in one transaction.
   */
  async save(link: NewLink): Promise<'linked' | 'relinked'> {
    let revocationId: string | undefined;
    try {
      const outcome = await this.links.manager.transaction(async (manager) => {
        // Serialises link changes per user: the user row is the lock.
        const user = await manager.createQueryBuilder(User, 'user').setLock('pessimistic_write').where('user.id = :id', { id: link.userId }).getOneOrFail();
        // One read for both: the account's holder, if any, and this user's previous link (tokens stay sealed).
        const existing = await manager.find(GoogleOAuth2User, {
          where: [{ googleUserId: link.googleUserId }, { userId: link.userId }],
          select: { id: true, userId: true, googleUserId: true, refreshToken: true },
        });
        if (existing.some((row) => row.googleUserId === link.googleUserId && row.userId !== link.userId)) throw new LinkRefusedError('google_account_in_use');
        const previous = existing.find((row) => row.userId === link.userId);
        const sameAccount = previous?.googleUserId === link.googleUserId;
        // The previous refresh token is read (and decrypted) only to be kept or revoked; one that
        // cannot be decrypted can be neither (the same account without a new one: no_offline_access).
        const previousRefreshToken = previous && !(sameAccount && link.refreshToken) ? this.readable(previous) : undefined;
        const refreshToken = link.refreshToken ?? (sameAccount ? previousRefreshToken : undefined);
        if (!refreshToken) throw new LinkRefusedError('no_offline_access');
        if (previous) {
          if (!sameAccount && previousRefreshToken !== undefined)
            revocationId = await this.revocations.enqueue(manager, { token: previousRefreshToken, googleUserId: previous.googleUserId, userId: link.userId });
          await manager.delete(GoogleOAuth2User, { id: previous.id });
        }
        await manager.insert(GoogleOAuth2User, {
          userId: link.userId,
          userCreatedAt: user.createdAt,
          googleUserId: link.googleUserId,
          email: normalizeEmail(link.email),
          accessToken: SealedSecret.for(link.userId, link.accessToken),
          refreshToken: SealedSecret.for(link.userId, refreshToken),
          accessTokenExpiresAt: new Date(Date.now() + link.expiresIn * 1000),
          tokensRefreshedAt: new Date(),
          oauthScope: link.scope,
          status: 'active',
        });
        const action = previous ? 'google.relinked' : 'google.linked';
        await this.audit.record({ action, userId: link.userId, googleUserId: link.googleUserId }, manager);
        return previous ? 'relinked' : 'linked';
      });
      return outcome;
    } catch (error) {
      // Two users linking one Google account at once: the unique index lets exactly one win.
      if (isUniqueViolation(error)) throw new LinkRefusedError('google_account_in_use');
      throw error;
    } finally {
      if (revocationId) await this.revocations.attempt(revocationId);
    }
  }

  /**
   * Removes the link and revokes its grant at Google. The link is gone even when Google cannot be
   * reached (the revocation then stays in the outbox and is retried) and even when its refresh token
   * can no longer be decrypted (then nothing can be revoked, and the log says so by key id).
   */
  async unlink(userId: string, actorId: string): Promise<void> {
    const revocationId = await this.links.manager.transaction(async (manager: EntityManager) => {
      const link = await manager.findOne(GoogleOAuth2User, {
        where: { userId },
        select: { id: true, userId: true, googleUserId: true, refreshToken: true },
        lock: { mode: 'pessimistic_write' },
      });
      if (!link) throw new DomainError('google_not_linked', 'No Google account is linked');
      const token = this.readable(link);
      const id = token === undefined ? undefined : await this.revocations.enqueue(manager, { token, googleUserId: link.googleUserId, userId: link.userId });
      await manager.delete(GoogleOAuth2User, { id: link.id });
      await this.audit.record({ action: 'google.unlinked', userId: link.userId, actorId, googleUserId: link.googleUserId }, manager);
      return id;
    });
    if (revocationId) await this.revocations.attempt(revocationId);
  }

  /** A link's refresh token, or undefined when it cannot be decrypted: logged by key id, never by value. */
  private readable(link: Pick<GoogleOAuth2User, 'userId' | 'googleUserId' | 'refreshToken'>): string | undefined {
    // Erased when Google revoked the grant: nothing to keep, nothing left to revoke.
    if (!link.refreshToken) return undefined;
    try {
      return link.refreshToken.open(link.userId);
    } catch (error) {
      if (!(error instanceof UndecryptableError)) throw error;
      this.logger.warn(
        { userId: link.userId, googleUserId: link.googleUserId, keyId: error.keyId ?? null },
        `A link's refresh token cannot be decrypted (key id ${error.keyId ?? 'unknown'}): it is neither kept nor revoked at Google`,
      );
      return undefined;
    }
  }
}
