import { DomainError } from '../common/domain-error';

export type LinkRefusal = 'google_account_in_use' | 'no_offline_access';

const LINK_MESSAGES: Record<LinkRefusal, string> = {
  google_account_in_use: 'This Google account is linked to another user',
  no_offline_access: 'Google gave no refresh token, and none is stored for this Google account',
};

/** A link the rules refuse; its code is the link callback's reason. */
export class LinkRefusedError extends DomainError {
  override name = 'LinkRefusedError';
  constructor(readonly reason: LinkRefusal) {
    super(reason, LINK_MESSAGES[reason]);
  }
}
