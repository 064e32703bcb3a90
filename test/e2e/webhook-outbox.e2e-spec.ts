import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { JobQueue } from '../../src/jobs/job-queue';
import { AuditEvent } from '../../src/users/audit-event.entity';
import { AuditService } from '../../src/users/audit.service';
import { WEBHOOK_QUEUE } from '../../src/webhooks/webhook-event';
import { WebhookOutboxService } from '../../src/webhooks/webhook-outbox.service';
import { TestDatabase } from '../support/database';

/** The outbox on a real database: the webhook job commits, or rolls back, with the audit event. */
describe('webhook outbox (e2e, real PostgreSQL)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let jobs: JobQueue;
  let audit: AuditService;
  const config = {
    webhook: { url: 'http://127.0.0.1:9/hooks', secret: 'whsec_AAAA', retryDelaySeconds: 1, retryLimit: 12 },
    google: { httpTimeoutMs: 2000 },
  } as AppConfig;
  const queued = (userId: string) => database.query(`SELECT id FROM pgboss.job WHERE name = $1 AND data->'data'->>'userId' = $2`, [WEBHOOK_QUEUE, userId]);
  const newUser = async () =>
    (await database.query<{ id: string }>(`INSERT INTO users (email) VALUES (gen_random_uuid() || '@example.com') RETURNING id`))[0].id;

  beforeAll(async () => {
    database = await TestDatabase.create();
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    await dataSource.runMigrations();
    jobs = new JobQueue(dataSource);
    await jobs.onModuleInit();
    audit = new AuditService(dataSource.getRepository(AuditEvent), new WebhookOutboxService(jobs, config));
  });
  afterAll(async () => {
    await jobs?.onModuleDestroy();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('queues the webhook of a committed change, with the event id as the job id', async () => {
    const userId = await newUser();

    await dataSource.transaction((manager) => audit.record({ action: 'session.created', userId }, manager));

    const [event] = await database.query<{ id: string }>('SELECT id FROM audit_events WHERE user_id = $1', [userId]);
    expect(await queued(userId)).toEqual([{ id: event.id }]);
  });

  it('queues nothing for a rolled-back change', async () => {
    const userId = await newUser();

    const change = dataSource.transaction(async (manager) => {
      await audit.record({ action: 'session.created', userId }, manager);
      throw new Error('the change fails after its audit event');
    });

    await expect(change).rejects.toThrow('the change fails');
    expect(await database.query('SELECT id FROM audit_events WHERE user_id = $1', [userId])).toEqual([]);
    expect(await queued(userId)).toEqual([]);
  });

  it('commits an event recorded outside any transaction together with its webhook job, or not at all', async () => {
    const userId = await newUser();
    // The job insert fails for this user only, as it would if the instance died between the two statements.
    await database.query(`CREATE FUNCTION refuse_job() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.data->'data'->>'userId' = '${userId}' THEN RAISE EXCEPTION 'no job for this user'; END IF; RETURN NEW; END $$`);
    await database.query('CREATE TRIGGER refuse_job BEFORE INSERT ON pgboss.job FOR EACH ROW EXECUTE FUNCTION refuse_job()');
    try {
      // The repository's own manager: each statement would commit on its own.
      await expect(audit.record({ action: 'session.created', userId }, dataSource.manager)).rejects.toThrow('no job for this user');
    } finally {
      await database.query('DROP TRIGGER refuse_job ON pgboss.job');
      await database.query('DROP FUNCTION refuse_job()');
    }

    expect(await database.query('SELECT id FROM audit_events WHERE user_id = $1', [userId])).toEqual([]);
    await audit.record({ action: 'session.created', userId }, dataSource.manager);
    const [event] = await database.query<{ id: string }>('SELECT id FROM audit_events WHERE user_id = $1', [userId]);
    expect(await queued(userId)).toEqual([{ id: event.id }]);
  });

  it('queues nothing for an event that names no user', async () => {
    const before = await database.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1`, [WEBHOOK_QUEUE]);

    await audit.record({ action: 'session.created', userId: null });

    expect(await database.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1`, [WEBHOOK_QUEUE])).toEqual(before);
  });
});
