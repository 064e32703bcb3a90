import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import { Session } from '../src/auth/sessions/session.entity';
import { OAuthStateStore } from '../src/auth/google-oauth/oauth-state.store';
import { OAuthStateWriter } from '../src/auth/google-oauth/oauth-state.writer';
import { SessionsService } from '../src/auth/sessions/sessions.service';
import { loadConfig } from '../src/config/app-config';
import { installKeyRing } from '../src/crypto/encrypted-column.transformer';
import { KeyRing } from '../src/crypto/key-ring';
import { dataSourceOptions } from '../src/database/data-source.options';
import { OAuthState } from '../src/auth/google-oauth/oauth-state.entity';
import { AuditEvent } from '../src/users/audit-event.entity';
import { AuditService } from '../src/users/audit.service';
import { GoogleAccessTokensService } from '../src/users/google-access-tokens.service';
import { GoogleRefreshLeasesService } from '../src/users/google-refresh-leases.service';
import { GoogleOAuth2User } from '../src/users/google-oauth2-user.entity';
import { User } from '../src/users/user.entity';
import { UserProfilesService } from '../src/users/user-profiles.service';
import { UsersService } from '../src/users/users.service';

export interface QueryPlan {
  name: string;
  sql: string;
  plan: string;
  executionMs: number;
}

interface Captured {
  sql: string;
  parameters: unknown[];
}

/** Keeps every query TypeORM sends, with its parameters, so the exact SQL can be explained. */
class CapturingLogger implements TypeOrmLogger {
  captured: Captured[] = [];
  logQuery(query: string, parameters?: unknown[]): void {
    this.captured.push({ sql: query, parameters: parameters ?? [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const TRANSACTION_CONTROL = /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)/i;

/**
 * EXPLAIN ANALYZE of the hot queries, as the service sends them: the service's own classes run
 * against the seeded database through a capturing TypeORM logger, then each captured statement is
 * explained (inside a rolled-back transaction, so the state consume changes nothing for good).
 */
export async function queryPlans(
  databaseUrl: string,
  encryptionKeys: string,
  google: Record<string, string>,
  subjects: { linkedUserId: string; sessionToken: string },
): Promise<QueryPlan[]> {
  const config = loadConfig({
    ...google,
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEYS: encryptionKeys,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'google-link-bench-plans-')),
  });
  const keyRing = new KeyRing(config.encryptionKeys);
  installKeyRing(keyRing);
  const logger = new CapturingLogger();
  const dataSource = await new DataSource({ ...dataSourceOptions(databaseUrl), logging: ['query'], logger }).initialize();
  try {
    const repository = <T extends object>(entity: new () => T) => dataSource.getRepository(entity);
    // No WEBHOOK_URL: the outbox queues nothing.
    const audit = new AuditService(repository(AuditEvent), { enqueue: async () => undefined } as never);
    const users = new UsersService(repository(User), audit, config);
    const sessions = new SessionsService(repository(Session), users, audit, config);
    const profiles = new UserProfilesService(repository(User), repository(GoogleOAuth2User), users);
    const states = new OAuthStateStore(repository(OAuthState), new OAuthStateWriter(dataSource, keyRing), keyRing, config);
    const accessTokens = new GoogleAccessTokensService(
      repository(GoogleOAuth2User),
      new GoogleRefreshLeasesService(repository(GoogleOAuth2User)),
      null as never,
      null as never,
      audit,
      null as never,
      config,
    );
    const browserSecret = 'b'.repeat(43);
    const firstPage = await profiles.list({}, { limit: 50 });
    const firstLinkedPage = await profiles.list({ linked: true }, { limit: 50 });

    const capture = async (name: string, run: () => Promise<unknown>): Promise<Array<Captured & { name: string }>> => {
      logger.captured = [];
      await run();
      const statements = logger.captured.filter((query) => !TRANSACTION_CONTROL.test(query.sql.trim()));
      return statements.map((statement, index) => ({ ...statement, name: statements.length > 1 ? `${name} (${index + 1}/${statements.length})` : name }));
    };
    const statements = [
      ...(await capture('session lookup (every authenticated request)', () => sessions.resolve(subjects.sessionToken, 'bearer'))),
      ...(await capture('users/me', () => profiles.view(subjects.linkedUserId))),
      ...(await capture('out-of-office: cached access token', () => accessTokens.accessToken(subjects.linkedUserId))),
      ...(await capture('admin users page', () => profiles.list({}, { limit: 50 }))),
      ...(await capture('admin users page 2 (cursor)', () => profiles.list({}, { limit: 50, cursor: firstPage.nextCursor ?? undefined }))),
      ...(await capture('admin users page, linked=true', () => profiles.list({ linked: true }, { limit: 50 }))),
      ...(await capture('admin users page 2, linked=true (cursor)', () =>
        profiles.list({ linked: true }, { limit: 50, cursor: firstLinkedPage.nextCursor ?? undefined }),
      )),
      ...(await capture('admin users page, linked=false', () => profiles.list({ linked: false }, { limit: 50 }))),
      ...(await capture('audit events page', () => audit.list({}, { limit: 50 }))),
      ...(await capture("audit events page, one user's", () => audit.list({ userId: subjects.linkedUserId }, { limit: 50 }))),
    ];
    // The consume uses its row up: explain it against a second, still pending state.
    const linkState = {
      purpose: 'link' as const,
      userId: subjects.linkedUserId,
      sessionId: null,
      browserSecret,
      codeVerifier: 'v'.repeat(43),
      nonce: 'n',
      nextPath: null,
    };
    const consumed = await capture('OAuth state consume', async () => states.consume(await states.create(linkState), browserSecret, 'none'));
    const pending = await states.create(linkState);
    const consume = consumed.find((statement) => statement.sql.includes('UPDATE oauth_states'))!;
    statements.push({ ...consume, name: 'OAuth state consume (callback)', parameters: [createHash('sha256').update(pending).digest()] });

    const plans: QueryPlan[] = [];
    for (const statement of statements) {
      const runner = dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        const rows: Array<{ 'QUERY PLAN': string }> = await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.parameters);
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
        plans.push({ name: statement.name, sql: statement.sql.replace(/\s+/g, ' ').trim(), plan, executionMs });
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    }
    return plans;
  } finally {
    await dataSource.destroy();
  }
}
