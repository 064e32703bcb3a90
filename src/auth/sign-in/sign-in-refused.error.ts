import { DomainError } from '../../common/domain-error';

export type SignInRefusal = 'domain_not_allowed' | 'signup_disabled' | 'email_not_verified';

const SIGN_IN_MESSAGES: Record<SignInRefusal, string> = {
  domain_not_allowed: "This Google account's domain is not allowed to sign in here",
  signup_disabled: 'There is no account for this email, and new sign-ups are disabled',
  email_not_verified: "Google has not verified this account's email address",
};

/** A verified Google identity the sign-in rules refuse; its code is the reason (callback) or the 403 (token exchange). */
export class SignInRefusedError extends DomainError {
  override name = 'SignInRefusedError';
  constructor(readonly reason: SignInRefusal) {
    super(reason, SIGN_IN_MESSAGES[reason]);
  }
}
