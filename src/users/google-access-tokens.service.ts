import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, FindOptionsSelect, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { SealedSecret } from '../crypto/sealed-secret';
import { GoogleRejectedError, GoogleUnavailableError } from '../google/google-errors';
import { GoogleOAuthClient } from '../google/google-oauth.client';
import { MetricsService } from '../metrics/metrics.service';
import { AuditService } from './audit.service';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
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

const unavailable = () => new DomainError('google_unavailable', 'Google could not be reached; try again shortly');

/**
 * Hands out a usable access token for a user's link, refreshing it when it is (about to be)
 * expired. Refreshes are single-flight: concurrent callers in this process share one promise, and
 * across processes the link row's lock lets one refresh while the others wait and reuse its result.
 */
@Injectable()
export class GoogleAccessTokensService {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly oauth: GoogleOAuthClient,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /** A token valid for at least the refresh margin; `force` refreshes even a fresh-looking one (Google said 401). */
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
    if (link.status === 'needs_reauth' || !link.accessToken)
      throw new DomainError('google_reauth_required', 'Google no longer accepts this link: connect the Google account again');
    if (missingScopes(parseScopes(link.oauthScope), this.config.google.requiredScopes).length > 0) {
      throw new DomainError('missing_scopes', 'The linked Google account has not granted Calendar access');
    }
  }

  private expiring(link: GoogleOAuth2User): boolean {
    return link.accessTokenExpiresAt.getTime() - Date.now() <= REFRESH_MARGIN_MS;
  }

  private async refresh(userId: string, staleToken: string | undefined): Promise<string> {
    const outcome = await this.links.manager.transaction(async (manager) => {
      const link = await manager.findOne(GoogleOAuth2User, { where: { userId }, lock: { mode: 'pessimistic_write' } });
      this.checkUsable(link);
      // Another request (maybe on another instance) refreshed while we waited for the lock.
      const refreshedMeanwhile = staleToken ? link.accessToken.open(link.userId) !== staleToken : !this.expiring(link);
      if (refreshedMeanwhile) return { token: link.accessToken.open(link.userId) };
      return this.refreshLocked(manager, link);
    });
    if ('reauth' in outcome) throw new DomainError('google_reauth_required', 'Google no longer accepts this link: connect the Google account again');
    return outcome.token;
  }

  private async refreshLocked(manager: EntityManager, link: UsableLink): Promise<{ token: string } | { reauth: true }> {
    try {
      const tokens = await this.oauth.refresh(link.refreshToken.open(link.userId));
      const changes: Partial<GoogleOAuth2User> = {
        accessToken: SealedSecret.for(link.userId, tokens.access_token),
        accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000),
      };
      if (tokens.refresh_token) changes.refreshToken = SealedSecret.for(link.userId, tokens.refresh_token);
      if (tokens.scope) changes.oauthScope = tokens.scope;
      // An UPDATE of what changed (sealed by the column transformers): save() would first reload the locked row.
      await manager.update(GoogleOAuth2User, { id: link.id }, changes);
      this.metrics.tokenRefresh('ok');
      return { token: tokens.access_token };
    } catch (error) {
      if (error instanceof GoogleRejectedError && error.error === 'invalid_grant') {
        // Revoked or expired at Google: keep the link (the person can reconnect) and leave a trace.
        await manager.update(GoogleOAuth2User, { id: link.id }, { status: 'needs_reauth' });
        await this.audit.record({ action: 'google.reauth_required', userId: link.userId, actorId: null, googleUserId: link.googleUserId }, manager);
        this.metrics.tokenRefresh('invalid_grant');
        return { reauth: true };
      }
      this.metrics.tokenRefresh('error');
      if (error instanceof GoogleUnavailableError || error instanceof GoogleRejectedError) throw unavailable();
      throw error;
    }
  }
}
