import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { SessionRevokedReason } from '../common/domain-error';
import { AuditAction } from '../users/audit-event.entity';
import { AuditService } from '../users/audit.service';
import { SecurityEventToken } from './security-event-token.verifier';

const SCHEMAS = 'https://schemas.openid.net/secevent/';
export const RISC_EVENT_TYPES = {
  sessionsRevoked: `${SCHEMAS}risc/event-type/sessions-revoked`,
  tokensRevoked: `${SCHEMAS}oauth/event-type/tokens-revoked`,
  accountDisabled: `${SCHEMAS}risc/event-type/account-disabled`,
  accountEnabled: `${SCHEMAS}risc/event-type/account-enabled`,
  credentialChangeRequired: `${SCHEMAS}risc/event-type/account-credential-change-required`,
  verification: `${SCHEMAS}risc/event-type/verification`,
} as const;

export type RiscOutcome = 'applied' | 'replayed';

interface Affected {
  userId: string;
  googleUserId: string;
}

const subjectOf = (payload: Record<string, unknown>): string | undefined => {
  const subject = payload.subject as Record<string, unknown> | undefined;
  return subject?.subject_type === 'iss-sub' && typeof subject.sub === 'string' && subject.sub ? subject.sub : undefined;
};

/**
 * Applies a verified SET once: its `jti` is inserted first, in the same transaction as the actions
 * and their audit events, so a replay (even one received by another instance at the same moment)
 * waits for the first to commit, finds the jti and applies nothing.
 */
@Injectable()
export class RiscEventsService {
  private readonly logger = new Logger(RiscEventsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async apply(set: SecurityEventToken): Promise<RiscOutcome> {
    const types = Object.keys(set.events);
    const subjects = [
      ...new Set(
        Object.values(set.events)
          .map(subjectOf)
          .filter((sub) => sub !== undefined),
      ),
    ];
    return this.dataSource.transaction(async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO risc_events (jti, event_types, google_user_id) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING RETURNING jti`,
        [set.jti, types.join(' '), subjects[0] ?? null],
      );
      if (inserted.length === 0) {
        this.logger.log({ jti: set.jti }, 'A security event token received before: acknowledged, not applied again');
        return 'replayed';
      }
      for (const [type, payload] of Object.entries(set.events)) await this.applyEvent(manager, type, payload, set.jti);
      return 'applied';
    });
  }

  private async applyEvent(manager: EntityManager, type: string, payload: Record<string, unknown>, jti: string): Promise<void> {
    if (type === RISC_EVENT_TYPES.verification) {
      // Google's test of the stream: its state echoes what the stream's owner asked for.
      this.logger.log({ jti, state: typeof payload.state === 'string' ? payload.state.slice(0, 200) : null }, 'Cross-Account Protection verification event');
      return;
    }
    const sub = subjectOf(payload);
    const affected = sub ? await this.affectedBy(manager, sub) : [];
    if (affected.length === 0) {
      this.logger.log({ jti, eventType: type, googleUserId: sub ?? null }, 'A security event for no known user: acknowledged, ignored');
      return;
    }
    const action = await this.act(manager, type, payload, sub!, affected);
    if (!action) {
      this.logger.log({ jti, eventType: type }, 'A security event type this service does not act on: acknowledged, ignored');
      return;
    }
    for (const { userId, googleUserId } of affected) await this.audit.record({ action, userId, actorId: null, googleUserId }, manager);
    this.logger.log({ jti, eventType: type, googleUserId: sub, users: affected.length }, `Cross-Account Protection: ${action}`);
  }

  private async act(
    manager: EntityManager,
    type: string,
    payload: Record<string, unknown>,
    sub: string,
    affected: Affected[],
  ): Promise<AuditAction | undefined> {
    const userIds = affected.map((one) => one.userId);
    switch (type) {
      case RISC_EVENT_TYPES.sessionsRevoked:
        await this.revokeSessions(manager, userIds, 'google_sessions_revoked');
        return 'google.sessions_revoked';
      case RISC_EVENT_TYPES.tokensRevoked:
        await this.revokeSessions(manager, userIds, 'google_tokens_revoked');
        // Google revoked the grant: the tokens are worthless and are not kept; the link waits to be reconnected.
        await manager.query(
          `UPDATE google_oauth2_users SET status = 'needs_reauth', access_token = NULL, refresh_token = NULL, updated_at = now() WHERE google_user_id = $1`,
          [sub],
        );
        return 'google.tokens_revoked';
      case RISC_EVENT_TYPES.accountDisabled: {
        await this.revokeSessions(manager, userIds, 'google_account_disabled');
        await manager.query(`UPDATE google_oauth2_users SET status = 'needs_reauth', updated_at = now() WHERE google_user_id = $1`, [sub]);
        const reason = typeof payload.reason === 'string' ? payload.reason.slice(0, 64) : null;
        await manager.query(
          `INSERT INTO google_account_blocks (google_user_id, reason) VALUES ($1, $2)
           ON CONFLICT (google_user_id) DO UPDATE SET reason = EXCLUDED.reason, disabled_at = now()`,
          [sub, reason],
        );
        return 'google.account_disabled';
      }
      case RISC_EVENT_TYPES.accountEnabled:
        await manager.query(`DELETE FROM google_account_blocks WHERE google_user_id = $1`, [sub]);
        return 'google.account_enabled';
      case RISC_EVENT_TYPES.credentialChangeRequired:
        return 'google.credential_change_required';
      default:
        return undefined;
    }
  }

  /** Every user the sub names: by the sign-in identity, or by a link to that Google account. */
  private async affectedBy(manager: EntityManager, sub: string): Promise<Affected[]> {
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT id FROM users WHERE google_sub = $1 UNION SELECT user_id AS id FROM google_oauth2_users WHERE google_user_id = $1`,
      [sub],
    );
    return rows.map((row) => ({ userId: row.id, googleUserId: sub }));
  }

  /**
   * Deletes the sessions (and, by cascade, the link flows they started), keeping of each only its
   * token hash and why, so the browser still holding the cookie can be told (SessionsService.revokedReason).
   */
  private async revokeSessions(manager: EntityManager, userIds: string[], reason: SessionRevokedReason): Promise<void> {
    await manager.query(
      `WITH ended AS (DELETE FROM sessions WHERE user_id = ANY($1::uuid[]) RETURNING token_hash, user_id, expires_at)
       INSERT INTO revoked_sessions (token_hash, user_id, reason, expires_at) SELECT token_hash, user_id, $2, expires_at FROM ended
       ON CONFLICT (token_hash) DO UPDATE SET reason = EXCLUDED.reason`,
      [userIds, reason],
    );
  }
}
