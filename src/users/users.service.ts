import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { normalizeEmail } from '../common/email-address';
import { Role } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { AuditService } from './audit.service';
import { User } from './user.entity';

@Injectable()
export class UsersService {
  private readonly adminEmails: Set<string>;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
    config: AppConfig,
  ) {
    this.adminEmails = new Set(config.adminEmails);
  }

  /** A user is an admin when promoted in the database or listed in ADMIN_EMAILS. */
  roleOf(user: Pick<User, 'email' | 'role'>): Role {
    return user.role === 'admin' || this.adminEmails.has(user.email) ? 'admin' : 'user';
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: normalizeEmail(email) });
  }

  findByGoogleSub(googleSub: string): Promise<User | null> {
    return this.users.findOneBy({ googleSub });
  }

  /**
   * Creates the user, or returns the existing one with that email; `admin` promotes.
   * Concurrent calls for one email create one user (ON CONFLICT).
   */
  async createOrPromote(input: { email: string; name?: string | null; admin?: boolean; googleSub?: string }): Promise<{ user: User; created: boolean }> {
    const email = normalizeEmail(input.email);
    return this.users.manager.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(User)
        .values({ email, name: input.name ?? null, role: input.admin ? 'admin' : 'user', googleSub: input.googleSub ?? null })
        .orIgnore()
        .returning('id')
        .execute();
      const rows = inserted.raw as Array<{ id: string }>;
      const created = rows.length > 0;
      if (created) await this.audit.record({ action: 'user.created', userId: rows[0].id }, manager);
      else if (input.admin) await manager.update(User, { email }, { role: 'admin' });
      const user = await manager.findOneByOrFail(User, { email });
      return { user, created };
    });
  }

  /**
   * Binds the Google identity a user signs in with, unless another one is bound already (conditional,
   * so two accounts racing for one user cannot both win): true when the user is bound to `googleSub`.
   */
  async bindGoogleSub(userId: string, googleSub: string): Promise<boolean> {
    const result = await this.users
      .createQueryBuilder()
      .update(User)
      .set({ googleSub })
      .where('id = :userId AND (google_sub IS NULL OR google_sub = :googleSub)', { userId, googleSub })
      .execute();
    return result.affected === 1;
  }
}
