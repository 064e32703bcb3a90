import { createHash, randomBytes } from 'node:crypto';
import type { TestDatabase } from './database';

export const uniqueEmail = (prefix = 'user', domain = 'example.com') =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@${domain}`.toLowerCase();

export interface SignedIn {
  user: { id: string; email: string };
  token: string;
  bearer: { authorization: string };
}

/**
 * Fixture: a user and a session written straight into the database (as `sessions:create` would),
 * for tests whose subject is not sign-in itself.
 */
export async function signedInUser(database: TestDatabase, email: string, options: { admin?: boolean } = {}): Promise<SignedIn> {
  const normalized = email.toLowerCase();
  const [user] = await database.query<{ id: string; email: string }>(
    `INSERT INTO users (email, name, role) VALUES ($1, $2, $3)
     ON CONFLICT (email) DO UPDATE SET role = CASE WHEN $3 = 'admin' THEN 'admin' ELSE users.role END
     RETURNING id, email`,
    [normalized, normalized.split('@')[0], options.admin ? 'admin' : 'user'],
  );
  const token = randomBytes(32).toString('base64url');
  await database.query(`INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [
    createHash('sha256').update(token).digest(),
    user.id,
  ]);
  return { user, token, bearer: { authorization: `Bearer ${token}` } };
}
