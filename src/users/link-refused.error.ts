import { RefusedError } from '../common/domain-error';

export type LinkRefusal = 'google_account_in_use' | 'no_offline_access';

/** A link the rules refuse; its code is the link callback's reason. */
export class LinkRefusedError extends RefusedError<LinkRefusal> {
  override name = 'LinkRefusedError';
  constructor(reason: LinkRefusal) {
    super(reason, {
      google_account_in_use: 'This Google account is linked to another user',
      no_offline_access: 'Google gave no refresh token, and none is stored for this Google account',
    });
  }
}
