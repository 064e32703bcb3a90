import { OAuthState } from '../auth/google-oauth/oauth-state.entity';
import { RevokedSession } from '../auth/sessions/revoked-session.entity';
import { Session } from '../auth/sessions/session.entity';
import { EncryptionUpgrade } from '../crypto/encryption-upgrade.entity';
import { GoogleAccountBlock } from '../risc/google-account-block.entity';
import { RiscEvent } from '../risc/risc-event.entity';
import { AuditEvent } from '../users/audit-event.entity';
import { GoogleOAuth2User } from '../users/google-oauth2-user.entity';
import { GoogleRevocation } from '../users/google-revocation.entity';
import { User } from '../users/user.entity';

/** Every entity, for the one DataSource configuration shared by the app and ormconfig.ts. */
export const ENTITIES = [
  User,
  Session,
  AuditEvent,
  GoogleOAuth2User,
  OAuthState,
  GoogleRevocation,
  EncryptionUpgrade,
  RiscEvent,
  GoogleAccountBlock,
  RevokedSession,
];
