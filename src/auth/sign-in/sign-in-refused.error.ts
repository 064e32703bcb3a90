import { RefusedError } from '../../common/domain-error';

export type SignInRefusal = 'domain_not_allowed' | 'signup_disabled' | 'email_not_verified' | 'google_account_mismatch' | 'google_account_disabled';

/** A verified Google identity the sign-in rules refuse: the callback's reason, or the token exchange's 403. */
export class SignInRefusedError extends RefusedError<SignInRefusal> {
  override name = 'SignInRefusedError';
  constructor(reason: SignInRefusal) {
    super(reason, {
      domain_not_allowed: "This Google account's domain is not allowed to sign in here",
      signup_disabled: 'There is no account for this email, and new sign-ups are disabled',
      email_not_verified: "Google has not verified this account's email address",
      google_account_mismatch: 'This email belongs to a user who signs in with another Google account',
      google_account_disabled: 'Google reported this Google account disabled; sign-in with it is refused until Google enables it again',
    });
  }
}
