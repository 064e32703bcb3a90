import { RefusedError } from '../../common/domain-error';

export type SignInRefusal = 'domain_not_allowed' | 'signup_disabled' | 'email_not_verified';

/** A verified Google identity the sign-in rules refuse: the callback's reason, or the token exchange's 403. */
export class SignInRefusedError extends RefusedError<SignInRefusal> {
  override name = 'SignInRefusedError';
  constructor(reason: SignInRefusal) {
    super(reason, {
      domain_not_allowed: "This Google account's domain is not allowed to sign in here",
      signup_disabled: 'There is no account for this email, and new sign-ups are disabled',
      email_not_verified: "Google has not verified this account's email address",
    });
  }
}
