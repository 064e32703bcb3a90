import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, Repository } from 'typeorm';
import type { SessionRevokedReason } from '../../common/domain-error';
import { Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { PreparedStatement } from '../../database/prepared-statement';
import { AuditService } from '../../users/audit.service';
import { PROFILE_COLUMNS, type ProfileRow } from '../../users/user-profiles.service';
import { UsersService } from '../../users/users.service';
import { hashSecretToken, isSecretToken, newSecretToken } from '../secret-token';
import { RevokedSession } from './revoked-session.entity';
import { Session } from './session.entity';

export interface IssuedSession {
  token: string;
  expiresIn: number;
}

const RESOLVE = new PreparedStatement<{ session_id: string; id: string; email: string; role: Principal['role'] }>(
  'session_resolve',
  `SELECT s.id AS session_id, u.id, u.email, u.role
     FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = $1 AND s.expires_at > now()`,
);

/** The same session check, with the user's profile and link summary (users/me) in the same statement. */
const RESOLVE_WITH_PROFILE = new PreparedStatement<ProfileRow & { session_id: string }>(
  'session_resolve_profile',
  `SELECT s.id AS session_id, ${PROFILE_COLUMNS}
     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN google_oauth2_users l ON l.user_id = u.id
    WHERE s.token_hash = $1 AND s.expires_at > now()`,
);

/**
 * Why Google ended the session of this token, if it did. A sign-in account Google reports disabled
 * says so whatever ended the session; one enabled again (or a disabled linked account) says only
 * that the sessions were ended.
 */
const REVOKED_REASON = new PreparedStatement<{ reason: SessionRevokedReason; disabled: boolean }>(
  'session_revoked_reason',
  `SELECT r.reason, EXISTS (SELECT 1 FROM google_account_blocks b WHERE b.google_user_id = u.google_sub) AS disabled
     FROM revoked_sessions r JOIN users u ON u.id = r.user_id
    WHERE r.token_hash = $1 AND r.expires_at > now()`,
);

/** Opaque session tokens: 256 random bits, only their SHA-256 stored, revocable at once everywhere. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** The session and its audit event (and so its webhook) commit together: in the caller's transaction, or in one of its own. */
  async create(userId: string, manager?: EntityManager): Promise<IssuedSession> {
    if (!manager) return this.sessions.manager.transaction((own) => this.create(userId, own));
    const token = newSecretToken();
    const expiresIn = this.config.sessionTtlSeconds;
    await manager.insert(Session, {
      tokenHash: hashSecretToken(token),
      userId,
      expiresAt: new Date(Date.now() + expiresIn * 1000),
    });
    await this.audit.record({ action: 'session.created', userId }, manager);
    return { token, expiresIn };
  }

  /** A new session in place of the one the browser held, if any (revoked in the same transaction). */
  async replace(previousSessionId: string | null, userId: string): Promise<IssuedSession> {
    if (!previousSessionId) return this.create(userId);
    return this.sessions.manager.transaction(async (manager) => {
      await manager.delete(Session, { id: previousSessionId });
      return this.create(userId, manager);
    });
  }

  /** One indexed query per request; a revoked or expired session is gone for every instance at once. */
  async resolve(token: string, via: Principal['via']): Promise<Principal | null> {
    if (!isSecretToken(token)) return null;
    const [row] = await RESOLVE.rows(this.sessions.manager.connection, [hashSecretToken(token)]);
    return row ? this.principalOf(row, via) : null;
  }

  /** As resolve, and the user's profile read by the same statement (one round trip for users/me). */
  async resolveWithProfile(token: string, via: Principal['via']): Promise<{ principal: Principal; profile: ProfileRow } | null> {
    if (!isSecretToken(token)) return null;
    const [row] = await RESOLVE_WITH_PROFILE.rows(this.sessions.manager.connection, [hashSecretToken(token)]);
    return row ? { principal: this.principalOf(row, via), profile: row } : null;
  }

  private principalOf(row: { session_id: string; id: string; email: string; role: Principal['role'] }, via: Principal['via']): Principal {
    return {
      userId: row.id,
      email: row.email,
      role: this.users.roleOf({ email: row.email, role: row.role }),
      sessionId: row.session_id,
      via,
    };
  }

  /** For a token that names no session: why Google ended it, if it did (null for any other token). */
  async revokedReason(token: string): Promise<SessionRevokedReason | null> {
    if (!isSecretToken(token)) return null;
    const [row] = await REVOKED_REASON.rows(this.sessions.manager.connection, [hashSecretToken(token)]);
    if (!row) return null;
    if (row.disabled) return 'google_account_disabled';
    return row.reason === 'google_account_disabled' ? 'google_sessions_revoked' : row.reason;
  }

  async revoke(sessionId: string): Promise<void> {
    await this.sessions.delete({ id: sessionId });
  }

  async revokeAll(userId: string): Promise<void> {
    await this.sessions.delete({ userId });
  }

  async purgeExpired(): Promise<number> {
    const result = await this.sessions.delete({ expiresAt: LessThan(new Date()) });
    return result.affected ?? 0;
  }

  async purgeExpiredRevocations(): Promise<number> {
    const result = await this.sessions.manager.delete(RevokedSession, { expiresAt: LessThan(new Date()) });
    return result.affected ?? 0;
  }
}
