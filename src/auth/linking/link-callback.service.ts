import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { GoogleIdTokenVerifier } from '../../google/google-id-token.verifier';
import { GoogleOAuthClient } from '../../google/google-oauth.client';
import { GoogleLinksService } from '../../users/google-links.service';
import { GoogleRevocationsService } from '../../users/google-revocations.service';
import { missingScopes, parseScopes } from '../../users/google-scopes';
import { LinkRefusedError } from '../../users/link-refused.error';
import type { ConsumedOutcome, GoogleGrant, LinkAnswer, LinkFailure } from '../google-oauth/callback-outcome';
import { describeError } from '../../database/database-error';

/** Completes a link callback: identity, scopes, then the stored link. Always an answer, never a throw. */
@Injectable()
export class LinkCallbackService {
  private readonly logger = new Logger(LinkCallbackService.name);

  constructor(
    private readonly links: GoogleLinksService,
    private readonly revocations: GoogleRevocationsService,
    private readonly idTokens: GoogleIdTokenVerifier,
    private readonly oauth: GoogleOAuthClient,
    private readonly config: AppConfig,
  ) {}

  async complete(outcome: ConsumedOutcome): Promise<LinkAnswer> {
    return { flow: 'link', reason: await this.reasonOf(outcome) };
  }

  private async reasonOf(outcome: ConsumedOutcome): Promise<'success' | LinkFailure> {
    if (outcome.kind === 'denied') return 'access_denied';
    if (outcome.kind === 'google_failed') {
      this.logger.warn(`Google code exchange failed: ${(outcome.error as Error)?.message}`);
      return 'google_error';
    }
    const { grant, state } = outcome;
    const userId = state.userId!;
    let identity: { sub: string; email: string } | undefined;
    try {
      identity = await this.identify(grant, state.nonce);
      if (missingScopes(parseScopes(grant.scope), this.config.google.requiredScopes).length > 0) {
        const holder = await this.links.holderOf(identity.sub);
        // Never revoke here: Google keeps one grant per account and client, shared with the holder's link.
        if (holder && holder !== userId) return 'google_account_in_use';
        if (!holder) await this.revokeRefused(grant, identity.sub, userId);
        return 'missing_scopes';
      }
      // An account linked to another user is refused inside save()'s transaction (google_account_in_use).
      await this.links.save({
        userId,
        googleUserId: identity.sub,
        email: identity.email,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: grant.expiresIn,
        scope: grant.scope,
      });
      return 'success';
    } catch (error) {
      if (error instanceof LinkRefusedError) {
        if (error.reason === 'no_offline_access') await this.revokeRefused(grant, identity!.sub, userId);
        return error.reason;
      }
      this.logger.warn(`Linking failed: ${describeError(error)}`);
      if (identity) await this.revokeUnstored(grant, identity.sub, userId);
      return 'google_error';
    }
  }

  /** The Google account behind the grant: the ID token when openid was granted, else userinfo. */
  private async identify(grant: GoogleGrant, nonce: string): Promise<{ sub: string; email: string }> {
    if (grant.idToken) {
      const identity = await this.idTokens.verify(grant.idToken, { nonce });
      return { sub: identity.sub, email: identity.email };
    }
    const info = await this.oauth.userInfo(grant.accessToken);
    if (!info.email) throw new Error('userinfo returned no email');
    return { sub: info.sub, email: info.email };
  }

  /**
   * A grant that could not be stored must not stay alive at Google, unless a link holds that account
   * (Google keeps one grant per account and client: revoking it would cut that link too). With the
   * database down the holder is unknown and the outbox unwritable: Google is then asked directly, once.
   */
  private async revokeUnstored(grant: GoogleGrant, googleUserId: string, userId: string): Promise<void> {
    const holder = await this.links.holderOf(googleUserId).catch(() => null);
    if (holder) return;
    try {
      await this.revocations.revoke({ token: grant.refreshToken ?? grant.accessToken, googleUserId, userId });
    } catch {
      await this.oauth.revoke(grant.refreshToken ?? grant.accessToken).catch((error: Error) => {
        this.logger.warn({ googleUserId }, `Could not revoke a grant that was not stored: ${describeError(error)}`);
      });
    }
  }

  /** A refused grant must not stay alive at Google: revoked through the outbox, so a failure is retried. */
  private async revokeRefused(grant: GoogleGrant, googleUserId: string, userId: string): Promise<void> {
    try {
      await this.revocations.revoke({ token: grant.refreshToken ?? grant.accessToken, googleUserId, userId });
    } catch (error) {
      this.logger.warn(`Could not revoke a refused grant at Google: ${describeError(error)}`);
    }
  }
}
