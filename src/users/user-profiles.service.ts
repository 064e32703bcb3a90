import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
import { LINK_SUMMARY_COLUMNS } from './google-links.service';
import { parseScopes } from './google-scopes';
import { Page, pageQuery, PageRequest } from './pagination';
import { User } from './user.entity';
import { GoogleAccountView, UserView } from './user.view';
import { UsersService } from './users.service';

/** Builds the public view of users: never a token, never ciphertext. */
@Injectable()
export class UserProfilesService {
  constructor(
    @InjectRepository(User) private readonly usersRepository: Repository<User>,
    @InjectRepository(GoogleOAuth2User) private readonly links: Repository<GoogleOAuth2User>,
    private readonly users: UsersService,
  ) {}

  async view(userId: string): Promise<UserView> {
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('user_not_found', 'No such user');
    const link = await this.links.findOne({ where: { userId }, select: LINK_SUMMARY_COLUMNS });
    return this.toView(user, link);
  }

  async list(filter: { linked?: boolean }, page: PageRequest): Promise<Page<UserView>> {
    const query = this.usersRepository.createQueryBuilder('user');
    if (filter.linked !== undefined) {
      query.where(`${filter.linked ? '' : 'NOT '}EXISTS (SELECT 1 FROM google_oauth2_users link WHERE link.user_id = user.id)`);
    }
    const { items, nextCursor } = await pageQuery(query, 'user', page);
    const links = items.length
      ? await this.links.find({ where: { userId: In(items.map((user) => user.id)) }, select: LINK_SUMMARY_COLUMNS })
      : [];
    const byUser = new Map(links.map((link) => [link.userId, link]));
    return { items: items.map((user) => this.toView(user, byUser.get(user.id) ?? null)), nextCursor };
  }

  private toView(user: User, link: GoogleOAuth2User | null): UserView {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: this.users.roleOf(user),
      googleAccount: link ? this.toAccountView(link) : null,
    };
  }

  private toAccountView(link: GoogleOAuth2User): GoogleAccountView {
    return {
      googleUserId: link.googleUserId,
      email: link.email,
      scopes: parseScopes(link.oauthScope),
      linkedAt: link.createdAt.toISOString(),
      status: link.status,
    };
  }
}
