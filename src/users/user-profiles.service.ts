import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { PreparedStatement } from '../database/prepared-statement';
import { GOOGLE_NOTICE_FILTER } from './audit-event.entity';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
import { LINK_SUMMARY_COLUMNS } from './google-links.service';
import { parseScopes } from './google-scopes';
import { Page, PageKey, pageQuery, PageRequest } from './pagination';
import { User } from './user.entity';
import { GoogleAccountView, MeView, UserView } from './user.view';
import { UsersService } from './users.service';

type LinkSummary = Pick<GoogleOAuth2User, 'googleUserId' | 'email' | 'oauthScope' | 'status' | 'createdAt'>;

/** A user's row and their link's summary, as the users/me statement reads them (`linked_at` names the link's creation). */
export interface ProfileRow {
  id: string;
  email: string;
  name: string | null;
  role: User['role'];
  google_user_id: string | null;
  link_email: string | null;
  oauth_scope: string | null;
  status: GoogleOAuth2User['status'] | null;
  linked_at: Date | null;
  /** The latest Cross-Account Protection action recorded for the user (an audit action), if any. */
  google_notice: string | null;
}

export const GOOGLE_NOTICES = {
  withdrawn: 'Google told us access to your Google account was withdrawn: reconnect your Google account',
  changePassword: 'Google asks you to change your Google password',
} as const;

/**
 * The words for the latest Cross-Account Protection action: a withdrawn access stays said until the
 * link is active again (reconnected); an account enabled again says nothing.
 */
export function googleNotice(action: string | null, linkStatus: ProfileRow['status']): string | null {
  if (action === 'google.credential_change_required') return GOOGLE_NOTICES.changePassword;
  if ((action === 'google.tokens_revoked' || action === 'google.account_disabled') && linkStatus !== 'active') return GOOGLE_NOTICES.withdrawn;
  return null;
}

/** The columns of a ProfileRow, for a statement that reads `users u LEFT JOIN google_oauth2_users l ON l.user_id = u.id`. */
export const PROFILE_COLUMNS = `u.id, u.email, u.name, u.role,
          l.google_user_id, l.email AS link_email, l.oauth_scope, l.status, l.created_at AS linked_at,
          (SELECT a.action FROM audit_events a
            WHERE a.user_id = u.id AND ${GOOGLE_NOTICE_FILTER('a.action')}
            ORDER BY a.created_at DESC, a.id DESC LIMIT 1) AS google_notice`;

const PROFILE = new PreparedStatement<ProfileRow>(
  'user_profile',
  `SELECT ${PROFILE_COLUMNS}
     FROM users u LEFT JOIN google_oauth2_users l ON l.user_id = u.id
    WHERE u.id = $1`,
);

/** Builds the public view of users: never a token, never ciphertext. */
@Injectable()
export class UserProfilesService {
  constructor(
    @InjectRepository(User) private readonly usersRepository: Repository<User>,
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly users: UsersService,
  ) {}

  /** users/me: the user and their link's summary (never its tokens) in one round trip, as every page load asks. */
  async view(userId: string): Promise<MeView> {
    const [row] = await PROFILE.rows(this.usersRepository.manager.connection, [userId]);
    if (!row) throw new DomainError('user_not_found', 'No such user');
    return this.viewOf(row);
  }

  /** The view of a row read by the users/me statement or by the session guard's (`@WithProfile()`). */
  viewOf(row: ProfileRow): MeView {
    const link =
      row.google_user_id === null
        ? null
        : { googleUserId: row.google_user_id, email: row.link_email!, oauthScope: row.oauth_scope!, status: row.status!, createdAt: row.linked_at! };
    return { ...this.toView(row, link), notice: googleNotice(row.google_notice, row.status) };
  }

  async list(filter: { linked?: boolean }, page: PageRequest): Promise<Page<UserView>> {
    const query = this.usersRepository.createQueryBuilder('user');
    let key: PageKey | undefined;
    if (filter.linked === true) {
      // Through the links' copy of the users' order and its index: a page costs the same however few users are linked.
      query.innerJoin(GoogleOAuth2User, 'link', 'link.user_id = user.id');
      key = { createdAt: 'link.user_created_at', id: 'link.user_id' };
    } else if (filter.linked === false) {
      query.where('NOT EXISTS (SELECT 1 FROM google_oauth2_users link WHERE link.user_id = user.id)');
    }
    const { items, nextCursor } = await pageQuery(query, 'user', page, key);
    const links = items.length ? await this.links.find({ where: { userId: In(items.map((user) => user.id)) }, select: LINK_SUMMARY_COLUMNS }) : [];
    const byUser = new Map(links.map((link) => [link.userId, link]));
    return { items: items.map((user) => this.toView(user, byUser.get(user.id) ?? null)), nextCursor };
  }

  private toView(user: Pick<User, 'id' | 'email' | 'name' | 'role'>, link: LinkSummary | null): UserView {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: this.users.roleOf(user),
      googleAccount: link ? this.toAccountView(link) : null,
    };
  }

  private toAccountView(link: LinkSummary): GoogleAccountView {
    return {
      googleUserId: link.googleUserId,
      email: link.email,
      scopes: parseScopes(link.oauthScope),
      linkedAt: link.createdAt.toISOString(),
      status: link.status,
    };
  }
}
