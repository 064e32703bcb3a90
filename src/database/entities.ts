import { Session } from '../auth/session.entity';
import { AuditEvent } from '../users/audit-event.entity';
import { User } from '../users/user.entity';

/** Every entity, for the one DataSource configuration shared by the app and ormconfig.ts. */
export const ENTITIES = [User, Session, AuditEvent];
