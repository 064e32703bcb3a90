import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsSelect, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { SealedSecret } from '../crypto/sealed-secret';
import { googleDomainError, GoogleRejectedError } from '../google/google-errors';
import { GoogleOAuthClient, GoogleTokenResponse } from '../google/google-oauth.client';
import { MetricsService } from '../metrics/metrics.service';
import { AuditService } from './audit.service';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
import { GoogleRefreshLeasesService } from './google-refresh-leases.service';
import { GoogleRevocationsService } from './google-revocations.service';
import { missingScopes, parseScopes } from './google-scopes';

/** An access token is refreshed when it expires within this margin. */
export const REFRESH_MARGIN_MS = 60_000;

const USABLE_COLUMNS: FindOptionsSelect<GoogleOAuth2User> = {
  id: true,
  userId: true,
  accessToken: true,
  accessTokenExpiresAt: true,
  oauthScope: true,
  status: true,
};

/** A link that still holds its tokens (the hot path selects only the access token). */
type UsableLink = GoogleOAuth2User & { accessToken: SealedSecret; refreshToken: SealedSecret };
const holdsTokens = (link: GoogleOAuth2User): link is UsableLink => link.accessToken !== null && link.refreshToken !== null;

const reauthRequired = () => new DomainError('google_reauth_required', 'Google no longer accepts this link: connect the Google account again');
const unavailable = () => new DomainError('google_unavailable', 'Google could not be reached; try again shortly');

/** A lease outlives its holder's call to Google (GOOGLE_HTTP_TIMEOUT_MS) by this much. */
export const LEASE_MARGIN_MS = 3_000;
/** How often a request waiting on another's refresh looks again: from the first to the last step. */
const FIRST_POLL_MS = 25;
const LAST_POLL_MS = 250;

/**
 * Hands out a usable access token for a user's link, refreshing it when it is (about to be)
 * expired. Refreshes are single-flight: concurrent callers in this process share one promise, and
 * across processes a short lease on the link row lets one caller call Google while the others
 * poll and reuse what it stored. No database connection is held while Google is called.
 */
@Injectable()
export class GoogleAccessTokensService {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly leases: GoogleRefreshLeasesService,
    private readonly revocations: GoogleRevocationsService,
    private readonly oauth: GoogleOAuthClient,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /**
   * A token valid for at least the refresh margin; `force` refreshes even a fresh-looking one (Google
   * said 401 to `staleToken`, or a health check). While another request (on any instance) refreshes
   * the link, waits for its result. Throws DomainErrors: google_not_linked, google_reauth_required
   * (invalid_grant: the link is now needs_reauth), missing_scopes, google_unavailable.
   */
  async accessToken(userId: string, options: { force?: boolean; staleToken?: string } = {}): Promise<string> {
    // The hot path reads (and decrypts) only the access token; the refresh token stays sealed.
    const link = await this.links.findOne({ where: { userId }, select: USABLE_COLUMNS });
    this.checkUsable(link);
    if (!options.force && !this.expiring(link)) return link.accessToken.open(link.userId);
    const pending = this.inFlight.get(userId);
    if (pending) return pending;
    const refresh = this.refresh(userId, options.force ? (options.staleToken ?? link.accessToken.open(link.userId)) : undefined).finally(() =>
      this.inFlight.delete(userId),
    );
    this.inFlight.set(userId, refresh);
    return refresh;
  }

  private checkUsable(link: GoogleOAuth2User | null): asserts link is UsableLink {
    if (!link) throw new DomainError('google_not_linked', 'No Google account is linked');
    // Tokens erased (Google revoked the grant: Cross-Account Protection) always come with needs_reauth.
    if (link.status === 'needs_reauth' || !link.accessToken) throw reauthRequired();
    if (missingScopes(parseScopes(link.oauthScope), this.config.google.requiredScopes).length > 0) {
      throw new DomainError('missing_scopes', 'The linked Google account has not granted Calendar access');
    }
  }

  private expiring(link: GoogleOAuth2User): boolean {
    return link.accessTokenExpiresAt.getTime() - Date.now() <= REFRESH_MARGIN_MS;
  }

  /** Someone refreshed since the caller looked: a token other than the stale one, or one no longer expiring. */
  private refreshedSince(link: UsableLink, staleToken: string | undefined): boolean {
    return staleToken ? link.accessToken.open(link.userId) !== staleToken : !this.expiring(link);
  }

  private get leaseMs(): number {
    return this.config.google.httpTimeoutMs + LEASE_MARGIN_MS;
  }

  private async refresh(userId: string, staleToken: string | undefined): Promise<string> {
    let awaited: string | undefined;
    let pollMs = FIRST_POLL_MS;
    const giveUpAt = Date.now() + 2 * this.leaseMs;
    for (;;) {
      if (Date.now() > giveUpAt) throw unavailable();
      const claimed = await this.leases.claim(userId, this.leaseMs);
      if (claimed) {
        // An active link always holds its tokens (Cross-Account Protection erases them with needs_reauth).
        if (!holdsTokens(claimed.link)) {
          await this.leases.release(claimed.link.id, claimed.leaseId);
          throw reauthRequired();
        }
        return this.refreshLeased(claimed.link, claimed.leaseId, staleToken);
      }
      const state = await this.leases.state(userId);
      const link = state?.link ?? null;
      this.checkUsable(link);
      const { leaseId, leaseHeld } = state!;
      if (this.refreshedSince(link, staleToken)) return link.accessToken.open(link.userId);
      // The holder we waited on gave its lease back without a new token: Google failed it just now.
      if (awaited !== undefined && leaseId === null) throw unavailable();
      // Free, or expired (its holder crashed or hung): claim it on the next turn.
      if (!leaseHeld) continue;
      awaited = leaseId!;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      pollMs = Math.min(pollMs * 2, LAST_POLL_MS);
    }
  }

  /** Calls Google under the lease and stores the outcome only if the lease is still ours. */
  private async refreshLeased(link: UsableLink, leaseId: string, staleToken: string | undefined): Promise<string> {
    let settled = false;
    try {
      // Refreshed between our first read and the claim: nothing to ask Google.
      if (this.refreshedSince(link, staleToken)) return link.accessToken.open(link.userId);
      const outcome = await this.callGoogle(link);
      if ('reauth' in outcome) {
        settled = await this.markNeedsReauth(link, leaseId);
        this.metrics.tokenRefresh('invalid_grant');
        if (settled) throw reauthRequired();
        return await this.storedAfterLostLease(link.userId);
      }
      const { tokens } = outcome;
      const changes: Partial<GoogleOAuth2User> = {
        accessToken: SealedSecret.for(link.userId, tokens.access_token),
        accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000),
        tokensRefreshedAt: new Date(),
      };
      if (tokens.refresh_token) changes.refreshToken = SealedSecret.for(link.userId, tokens.refresh_token);
      if (tokens.scope) changes.oauthScope = tokens.scope;
      settled = await this.leases.complete(link.id, leaseId, changes);
      this.metrics.tokenRefresh('ok');
      if (settled) return tokens.access_token;
      await this.revokeIfUnlinked(link, tokens);
      return await this.storedAfterLostLease(link.userId);
    } finally {
      // On any failure (Google's, a key that cannot open the refresh token) the lease goes back at once.
      if (!settled) await this.leases.release(link.id, leaseId).catch(() => undefined);
    }
  }

  private async callGoogle(link: UsableLink): Promise<{ tokens: GoogleTokenResponse } | { reauth: true }> {
    try {
      return { tokens: await this.oauth.refresh(link.refreshToken.open(link.userId)) };
    } catch (error) {
      // Revoked or expired at Google: the link is kept (the person can reconnect) and a trace left.
      if (error instanceof GoogleRejectedError && error.error === 'invalid_grant') return { reauth: true };
      this.metrics.tokenRefresh('error');
      throw googleDomainError(error) ?? error;
    }
  }

  /** needs_reauth and its audit event in one short transaction, if the lease is still ours. */
  private async markNeedsReauth(link: GoogleOAuth2User, leaseId: string): Promise<boolean> {
    return this.links.manager.transaction(async (manager) => {
      const result = await manager.update(
        GoogleOAuth2User,
        { id: link.id, refreshLeaseId: leaseId },
        { status: 'needs_reauth', refreshLeaseId: null, refreshLeaseUntil: null },
      );
      if (!result.affected) return false;
      await this.audit.record({ action: 'google.reauth_required', userId: link.userId, actorId: null, googleUserId: link.googleUserId }, manager);
      return true;
    });
  }

  /**
   * Unlinked while Google answered: the unlink revoked the refresh token it read, which a rotation
   * may just have replaced, so the grant lives on in the tokens we cannot store. Revoke it (queued
   * for retries when Google cannot be reached). A row that is still there, or a new one, keeps it.
   */
  private async revokeIfUnlinked(link: GoogleOAuth2User, tokens: GoogleTokenResponse): Promise<void> {
    if (await this.links.exists({ where: { userId: link.userId } })) return;
    const token = tokens.refresh_token ?? tokens.access_token;
    await this.revocations.revoke({ token, googleUserId: link.googleUserId, userId: link.userId }).catch(() => undefined);
  }

  /** Our lease expired and another request took over (or the link changed): what is stored now wins. */
  private async storedAfterLostLease(userId: string): Promise<string> {
    const link = await this.links.findOne({ where: { userId }, select: USABLE_COLUMNS });
    this.checkUsable(link);
    if (this.expiring(link)) throw unavailable();
    return link.accessToken.open(link.userId);
  }
}
