import { randomBytes } from 'node:crypto';
import { KeyRing } from '../src/crypto/key-ring';
import { DEFAULT_LINK_SCOPES } from '../src/config/app-config';
import type { BenchDatabase } from './bench-database';

const LINK_BATCH = 5000;

/**
 * Fills the tables the way a large deployment would look: `users` users (spread over the last
 * `users` seconds, so pages and cursors are realistic), a session each, `links` linked Google
 * accounts (exactly `links`, picked at random among them), and their audit trail (user.created, session.created,
 * google.linked). Rows come from generate_series in a few statements, not one insert per row.
 * Link tokens are real envelopes sealed with the bench key for their row (each bound to its user,
 * so none can be reused): they open, but fake Google knows none of them, so the scenarios use
 * users linked through the real flow.
 */
export async function seedScale(database: BenchDatabase, keyRing: KeyRing, users: number, links: number): Promise<Record<string, number>> {
  const seal = (column: string, owner: string) => keyRing.seal(`ya29.seed-${randomBytes(150).toString('base64url')}`, { column, owner });
  const timings: Record<string, number> = {};
  const step = async (name: string, sql: string, params: unknown[] = []) => {
    const started = performance.now();
    await database.query(sql, params);
    timings[name] = Math.round(performance.now() - started);
  };

  await step(
    'seed ids',
    `CREATE UNLOGGED TABLE bench_seed AS
       SELECT i, gen_random_uuid() AS id, row_number() OVER (ORDER BY random()) <= $2 AS linked,
              clock_timestamp() - interval '1 day' - make_interval(secs => $1 - i) AS created_at
         FROM generate_series(1, $1::int) AS i`,
    [users, links],
  );
  await step(
    'users',
    `INSERT INTO users (id, email, name, role, created_at, updated_at)
     SELECT id, 'seed-' || i || '@seed.bench.example', 'Seed ' || i, 'user', created_at, created_at FROM bench_seed`,
  );
  await step(
    'sessions',
    `INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
     SELECT sha256(convert_to('seed-session-token-' || i, 'UTF8')), id, created_at, now() + interval '1 day' FROM bench_seed`,
  );
  const linked = await database.query<{ i: number; id: string; created_at: Date }>(
    'SELECT i, id::text AS id, created_at FROM bench_seed WHERE linked ORDER BY i',
  );
  const linksStarted = performance.now();
  for (let start = 0; start < linked.length; start += LINK_BATCH) {
    const batch = linked.slice(start, start + LINK_BATCH);
    await database.query(
      `INSERT INTO google_oauth2_users (user_id, user_created_at, google_user_id, email, access_token, refresh_token, access_token_expires_at, oauth_scope, status, created_at, updated_at)
       SELECT id, created_at, 'seed-sub-' || i, 'seed-' || i || '@seed.bench.example', access_token, refresh_token,
              now() + interval '30 minutes', $6, CASE WHEN i % 100 = 0 THEN 'needs_reauth' ELSE 'active' END,
              created_at + interval '1 minute', created_at + interval '1 minute'
         FROM unnest($1::int[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[]) AS seed(i, id, created_at, access_token, refresh_token)`,
      [
        batch.map((row) => row.i),
        batch.map((row) => row.id),
        batch.map((row) => row.created_at),
        batch.map((row) => seal('google_oauth2_users.access_token', row.id)),
        batch.map((row) => seal('google_oauth2_users.refresh_token', row.id)),
        DEFAULT_LINK_SCOPES.join(' '),
      ],
    );
  }
  timings.google_oauth2_users = Math.round(performance.now() - linksStarted);
  await step(
    'audit_events',
    `INSERT INTO audit_events (action, user_id, actor_id, google_user_id, created_at)
     SELECT event.action, s.id, s.id, CASE WHEN event.action = 'google.linked' THEN 'seed-sub-' || s.i END, s.created_at + event.offset_by
       FROM bench_seed s
       CROSS JOIN (VALUES ('user.created', interval '0'), ('session.created', interval '1 second'), ('google.linked', interval '1 minute')) AS event(action, offset_by)
      WHERE event.action <> 'google.linked' OR s.linked`,
  );
  await step('drop seed ids', 'DROP TABLE bench_seed');
  await step('vacuum analyze', 'VACUUM ANALYZE');
  const [counts] = await database.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM sessions) AS sessions,
            (SELECT count(*) FROM google_oauth2_users) AS links, (SELECT count(*) FROM audit_events) AS audit_events`,
  );
  return { ...Object.fromEntries(Object.entries(counts).map(([name, value]) => [`rows.${name}`, Number(value)])), ...prefixed(timings) };
}

const prefixed = (timings: Record<string, number>) => Object.fromEntries(Object.entries(timings).map(([name, ms]) => [`ms.${name}`, ms]));

/** The Bearer token of seeded user `i` (its session row holds only the SHA-256). */
export const seededSessionToken = (i: number) => `seed-session-token-${i}`;
