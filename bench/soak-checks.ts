import { getMetadataArgsStorage } from 'typeorm';
import type { KeyRing } from '../src/crypto/key-ring';
import { ENTITIES } from '../src/database/entities';
import type { TestDatabase } from '../test/support/database';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Every `table.column` sealed by the encrypted-column transformer, and its owner column, read from the entities themselves. */
export function encryptedColumns(): Array<{ table: string; column: string; context: string; ownerColumn: string }> {
  const entities = new Set<unknown>(ENTITIES);
  return getMetadataArgsStorage()
    .columns.filter((column) => entities.has(column.target))
    .flatMap((column) => {
      const transformer = column.options.transformer as { encryptionContext?: string; ownerColumn?: string } | undefined;
      if (!transformer?.encryptionContext || !transformer.ownerColumn) return [];
      const [table, name] = transformer.encryptionContext.split('.');
      return [{ table, column: name, context: transformer.encryptionContext, ownerColumn: transformer.ownerColumn }];
    });
}

const count = async (database: TestDatabase, sql: string, params: unknown[] = []) => Number((await database.query<{ n: string }>(sql, params))[0].n);

/** Invariants that hold at every instant, faults or not: checked during the run and after it. */
export async function invariantChecks(database: TestDatabase, keyRing: KeyRing): Promise<CheckResult[]> {
  const unaudited = await count(
    database,
    `SELECT count(*) AS n FROM google_oauth2_users l
      WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.user_id = l.user_id AND a.google_user_id = l.google_user_id
                          AND a.action IN ('google.linked', 'google.relinked'))`,
  );
  const results: CheckResult[] = [
    { name: 'every link has a google.linked / google.relinked audit event', ok: unaudited === 0, detail: `${unaudited} link(s) without one` },
  ];
  for (const { table, column, context, ownerColumn } of encryptedColumns()) {
    const rows = await database.query<{ value: string; owner: string }>(
      `SELECT "${column}" AS value, "${ownerColumn}"::text AS owner FROM "${table}" WHERE "${column}" IS NOT NULL`,
    );
    let sealed = 0;
    for (const { value, owner } of rows) {
      try {
        if (value.startsWith('v2:')) {
          keyRing.open(value, { column: context, owner });
          sealed += 1;
        }
      } catch {
        // Counted as not sealed below; the value itself is never printed.
      }
    }
    results.push({
      name: `${context}: every value a v2:<keyId>: envelope that opens in its row`,
      ok: sealed === rows.length,
      detail: `${sealed}/${rows.length} sealed`,
    });
  }
  return results;
}

/** Checks for the end of the run, once faults have stopped and the retry window has passed. */
export async function finalChecks(
  database: TestDatabase,
  options: {
    presentedStates: Buffer[];
    stateTtlSeconds: number;
    purgeGraceSeconds: number;
  },
): Promise<CheckResult[]> {
  const replayable = await count(database, 'SELECT count(*) AS n FROM oauth_states WHERE state_hash = ANY($1) AND used_at IS NULL', [options.presentedStates]);
  const overlong = await count(database, `SELECT count(*) AS n FROM oauth_states WHERE expires_at > created_at + make_interval(secs => $1 + 1)`, [
    options.stateTtlSeconds,
  ]);
  const orphans = await count(
    database,
    'SELECT count(*) AS n FROM oauth_states s WHERE s.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)',
  );
  const unpurged = await count(database, `SELECT count(*) AS n FROM oauth_states WHERE expires_at < now() - make_interval(secs => $1)`, [
    options.purgeGraceSeconds,
  ]);
  const expired = await count(database, 'SELECT count(*) AS n FROM oauth_states WHERE expires_at < now()');
  const stuck = await database.query<{ attempts: number }>('SELECT attempts FROM google_revocations');
  return [
    {
      name: 'every state presented at the callback is consumed',
      ok: replayable === 0,
      detail: `${replayable} of ${options.presentedStates.length} still usable`,
    },
    { name: `no state lives longer than STATE_TTL_SECONDS (${options.stateTtlSeconds} s)`, ok: overlong === 0, detail: `${overlong} overlong` },
    { name: 'no orphan state (its user gone)', ok: orphans === 0, detail: `${orphans} orphan(s)` },
    {
      name: `no state left expired for more than ${options.purgeGraceSeconds} s (purge keeps up)`,
      ok: unpurged === 0,
      detail: `${unpurged} overdue; ${expired} expired awaiting the next purge pass`,
    },
    {
      name: 'no revocation stuck in google_revocations after the retry window (a kill included: its lease runs out first)',
      ok: stuck.length === 0,
      detail: stuck.length ? `${stuck.length} left (attempts ${stuck.map((row) => row.attempts).join(', ')})` : '0 left',
    },
  ];
}

/**
 * Nothing half-stored: every active link holds its tokens and scopes, and the user's latest link
 * event (linked, relinked, unlinked) names that very Google account; an unlink left no link behind.
 */
export async function linkConsistencyChecks(database: TestDatabase): Promise<CheckResult[]> {
  const incomplete = await count(
    database,
    `SELECT count(*) AS n FROM google_oauth2_users
      WHERE status = 'active' AND (refresh_token IS NULL OR access_token IS NULL OR oauth_scope = '' OR email = '')`,
  );
  const inconsistent = await count(
    database,
    `SELECT count(*) AS n FROM google_oauth2_users l
      WHERE NOT EXISTS (
        SELECT 1 FROM (SELECT a.action, a.google_user_id FROM audit_events a
                        WHERE a.user_id = l.user_id AND a.action IN ('google.linked', 'google.relinked', 'google.unlinked')
                        ORDER BY a.created_at DESC, a.id DESC LIMIT 1) latest
         WHERE latest.action <> 'google.unlinked' AND latest.google_user_id = l.google_user_id)`,
  );
  return [
    { name: 'every active link is complete (both tokens, scopes, email)', ok: incomplete === 0, detail: `${incomplete} incomplete` },
    {
      name: "every link matches its user's latest link audit event (no link after an unlink, no event without its link)",
      ok: inconsistent === 0,
      detail: `${inconsistent} inconsistent`,
    },
  ];
}

/**
 * No lost revocation: for every google.unlinked event whose Google account is not linked again,
 * every refresh token the service was seen storing for it is dead at Google, or its revocation is
 * still queued. (A grant Google issued but the service never got, its answer cut by a timeout, is
 * not the service's to revoke.) `liveStoredGrants`: undefined when no stored token was seen.
 */
export async function revocationChecks(database: TestDatabase, liveStoredGrants: (googleUserId: string) => number | undefined): Promise<CheckResult[]> {
  const unlinked = await database.query<{ google_user_id: string; queued: boolean }>(
    `SELECT DISTINCT a.google_user_id, EXISTS (SELECT 1 FROM google_revocations r WHERE r.google_user_id = a.google_user_id) AS queued
       FROM audit_events a
      WHERE a.action = 'google.unlinked' AND a.google_user_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM google_oauth2_users l WHERE l.google_user_id = a.google_user_id)`,
  );
  let done = 0;
  let queued = 0;
  let unknown = 0;
  let lost = 0;
  for (const row of unlinked) {
    const live = liveStoredGrants(row.google_user_id);
    if (live === undefined) unknown += 1;
    else if (live === 0) done += 1;
    else if (row.queued) queued += 1;
    else lost += 1;
  }
  return [
    {
      name: "every unlink's revocation is done at Google or queued in google_revocations",
      ok: lost === 0,
      detail: `${unlinked.length} unlinked accounts: ${done} revoked, ${queued} queued, ${lost} lost, ${unknown} never seen stored (linked and unlinked between samples)`,
    },
  ];
}

/**
 * No lost webhook: every audit event naming a user has its delivery job (pg-boss, job id = event id,
 * in the queue or archived) or was received; reports how many the receiver got.
 */
export async function webhookChecks(database: TestDatabase, received: Set<string>): Promise<CheckResult[]> {
  const events = await database.query<{ id: string; queued: boolean; action: string; created_at: Date }>(
    `SELECT a.id::text AS id, a.action, a.created_at,
            EXISTS (SELECT 1 FROM pgboss.job j WHERE j.id = a.id) OR EXISTS (SELECT 1 FROM pgboss.archive j WHERE j.id = a.id) AS queued
       FROM audit_events a WHERE a.user_id IS NOT NULL`,
  );
  const lost = events.filter((event) => !event.queued && !received.has(event.id));
  const delivered = events.filter((event) => received.has(event.id)).length;
  // Which events, and when (for a lost one next to a kill): the action and time only, never the user.
  const examples = lost.slice(0, 3).map((event) => `${event.action} at ${event.created_at.toISOString()}`);
  return [
    {
      name: 'every audit event naming a user has a webhook job or delivery',
      ok: lost.length === 0 && events.length > 0,
      detail: `${events.length} events: ${delivered} delivered, ${events.length - delivered - lost.length} queued only, ${lost.length} lost${examples.length ? ` (${examples.join('; ')})` : ''}`,
    },
  ];
}
