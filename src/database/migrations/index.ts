import { Foundation1795582243799 } from './1795582243799-Foundation';
import { GoogleLinks1795582687047 } from './1795582687047-GoogleLinks';
import { MillisecondCursors1795584414809 } from './1795584414809-MillisecondCursors';
import { LinkUserCreatedAt1796157867156 } from './1796157867156-LinkUserCreatedAt';
import { EncryptionUpgrades1796192452168 } from './1796192452168-EncryptionUpgrades';
import { EmailAsciiLowercase1796196122267 } from './1796196122267-EmailAsciiLowercase';
import { OAuthStateUseAndSession1796196230130 } from './1796196230130-OAuthStateUseAndSession';
import { RefreshLease1796214505415 } from './1796214505415-RefreshLease';
import { CrossAccountProtection1796300000000 } from './1796300000000-CrossAccountProtection';
import { JobQueue1796300000001 } from './1796300000001-JobQueue';
import { RevokedSessions1796400000000 } from './1796400000000-RevokedSessions';
import { LinkHealth1796400000001 } from './1796400000001-LinkHealth';

/**
 * Listed explicitly (no globs), so the same list loads under tsc output, Jest and the TypeORM CLI.
 * `npm run migration:generate -- Name` writes a new file here: append its class, one a line, in
 * timestamp order.
 */
export const MIGRATIONS = [
  Foundation1795582243799,
  GoogleLinks1795582687047,
  MillisecondCursors1795584414809,
  LinkUserCreatedAt1796157867156,
  EncryptionUpgrades1796192452168,
  EmailAsciiLowercase1796196122267,
  OAuthStateUseAndSession1796196230130,
  RefreshLease1796214505415,
  CrossAccountProtection1796300000000,
  JobQueue1796300000001,
  RevokedSessions1796400000000,
  LinkHealth1796400000001,
];
