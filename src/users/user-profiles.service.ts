import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { User } from './user.entity';
import { UsersService } from './users.service';
import { UserView } from './user.view';

/** Builds the public view of a user: never a token, never ciphertext. */
@Injectable()
export class UserProfilesService {
  constructor(private readonly users: UsersService) {}

  async view(userId: string): Promise<UserView> {
    const user = await this.users.findById(userId);
    if (!user) throw new DomainError('user_not_found', 'No such user');
    return this.toView(user);
  }

  toView(user: User): UserView {
    return { id: user.id, email: user.email, name: user.name, role: this.users.roleOf(user), googleAccount: null };
  }
}
