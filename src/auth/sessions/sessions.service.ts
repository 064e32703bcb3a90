import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { PreparedStatement } from '../../database/prepared-statement';
import { AuditService } from '../../users/audit.service';
import { UsersService } from '../../users/users.service';
import { hashSecretToken, isSecretToken, newSecretToken } from '../secret-token';
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

/** Opaque session tokens: 256 random bits, only their SHA-256 stored, revocable at once everywhere. */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  async create(userId: string, manager: EntityManager = this.sessions.manager): Promise<IssuedSession> {
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

  /** One indexed query per request; a revoked or expired session is gone for every instance at once. */
  async resolve(token: string, via: Principal['via']): Promise<Principal | null> {
    if (!isSecretToken(token)) return null;
    const [row] = await RESOLVE.rows(this.sessions.manager.connection, [hashSecretToken(token)]);
    if (!row) return null;
    return {
      userId: row.id,
      email: row.email,
      role: this.users.roleOf({ email: row.email, role: row.role }),
      sessionId: row.session_id,
      via,
    };
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
}
