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
  options: { presentedStates: Buffer[]; stateTtlSeconds: number; purgeGraceSeconds: number },
): Promise<CheckResult[]> {
  const replayable = await count(database, 'SELECT count(*) AS n FROM oauth_states WHERE state_hash = ANY($1)', [options.presentedStates]);
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
      detail: `${replayable} of ${options.presentedStates.length} still stored`,
    },
    { name: `no state lives longer than STATE_TTL_SECONDS (${options.stateTtlSeconds} s)`, ok: overlong === 0, detail: `${overlong} overlong` },
    { name: 'no orphan state (its user gone)', ok: orphans === 0, detail: `${orphans} orphan(s)` },
    {
      name: `no state left expired for more than ${options.purgeGraceSeconds} s (purge keeps up)`,
      ok: unpurged === 0,
      detail: `${unpurged} overdue; ${expired} expired awaiting the next purge pass`,
    },
    {
      name: 'no revocation stuck in google_revocations after the retry window',
      ok: stuck.length === 0,
      detail: stuck.length ? `${stuck.length} left (attempts ${stuck.map((row) => row.attempts).join(', ')})` : '0 left',
    },
  ];
}
