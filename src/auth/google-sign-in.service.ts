import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { GoogleIdentity } from '../google/google-id-token.verifier';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

export type SignInRefusal = 'domain_not_allowed' | 'signup_disabled' | 'email_not_verified';

export class SignInRefusedError extends DomainError {
  constructor(readonly reason: SignInRefusal) {
    super(reason, SIGN_IN_MESSAGES[reason]);
  }
}

const SIGN_IN_MESSAGES: Record<SignInRefusal, string> = {
  domain_not_allowed: "This Google account's domain is not allowed to sign in here",
  signup_disabled: 'There is no account for this email, and new sign-ups are disabled',
  email_not_verified: "Google has not verified this account's email address",
};

/**
 * Who a verified Google identity signs in as: the user with that Google `sub`; else the user with
 * that verified email (recording the `sub`); else, when allowed, a new user.
 */
@Injectable()
export class GoogleSignInService {
  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async resolveUser(identity: GoogleIdentity): Promise<User> {
    if (!identity.emailVerified) throw new SignInRefusedError('email_not_verified');
    if (!this.domainAllowed(identity)) throw new SignInRefusedError('domain_not_allowed');
    const bySub = await this.users.findByGoogleSub(identity.sub);
    if (bySub) return bySub;
    const byEmail = await this.users.findByEmail(identity.email);
    if (byEmail) {
      await this.users.setGoogleSub(byEmail.id, identity.sub);
      return { ...byEmail, googleSub: identity.sub };
    }
    if (!this.config.google.autoCreateUsers) throw new SignInRefusedError('signup_disabled');
    const { user } = await this.users.createOrPromote({ email: identity.email, name: identity.name, googleSub: identity.sub });
    return user;
  }

  /** Exact matches only: `gmail.com` does not admit `mail.com` or `evilgmail.com`. */
  private domainAllowed(identity: GoogleIdentity): boolean {
    const allowed = this.config.google.allowedDomains;
    if (allowed.length === 0) return true;
    const domain = identity.email.slice(identity.email.lastIndexOf('@') + 1).toLowerCase();
    if (!allowed.includes(domain)) return false;
    return identity.hd === null || allowed.includes(identity.hd.toLowerCase());
  }
}
