import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { Pool, PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { describeError } from '../database/database-error';

export const JOB_SCHEMA = 'pgboss';

type Sql = PgBoss.Db;
/** A job out of retries stays listed (and retryable) this long, not pg-boss's 12 hours: an operator may be away for a weekend. */
const FAILED_KEPT_SECONDS = 14 * 24 * 60 * 60;

/**
 * The background jobs, on pg-boss over the service's own pool (no second pool, no server to run).
 * Its schema comes from a migration (`migrate: false` here), it uses no LISTEN/NOTIFY and only
 * transaction-scoped advisory locks, so it works behind a transaction pooler. `send` with a
 * transaction's manager writes the job in that transaction: a rolled-back change enqueues nothing.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.boss = new PgBoss({
      db: this.poolSql(),
      schema: JOB_SCHEMA,
      migrate: false,
      supervise: true,
      schedule: true,
      archiveFailedAfterSeconds: FAILED_KEPT_SECONDS,
    });
    // pg-boss reports failures of its own loops (maintenance, polling) here; they are retried by it.
    this.boss.on('error', (error: Error) => this.logger.warn(`Job queue: ${describeError(error)}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
  }

  /** Stops polling and waits (up to 10 s) for the jobs in progress, before the pool closes. */
  async onModuleDestroy(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: 10_000 });
  }

  /** Enqueues a job; with `manager`, inside its transaction (the job exists only if it commits). */
  async send(name: string, data: object, options: PgBoss.SendOptions, manager?: EntityManager): Promise<void> {
    const db = manager?.queryRunner?.isTransactionActive ? this.transactionSql(manager) : undefined;
    await this.boss.send(name, data, { ...options, ...(db ? { db } : {}) });
  }

  /** Enqueues many jobs in one statement; a job that its queue's policy refuses (a duplicate singletonKey) is skipped. */
  async insert(jobs: PgBoss.JobInsert[]): Promise<void> {
    if (jobs.length > 0) await this.boss.insert(jobs);
  }

  work<T extends object>(name: string, options: PgBoss.WorkOptions, handler: (job: PgBoss.Job<T>) => Promise<void>): Promise<string> {
    return this.boss.work<T>(name, { ...options, batchSize: 1 }, async ([job]) => handler(job));
  }

  /**
   * Works up to `concurrency` jobs at once: takes that many per fetch (SKIP LOCKED: each job to one
   * worker at a time), runs `handler` on each concurrently, then completes or fails each job by its own
   * outcome (pg-boss 10 fails a whole batch when its handler throws; here a throw retries only its job).
   * A full batch fetches again at once instead of waiting out the polling interval; graceful stop
   * waits for the batch in hand, as for one job.
   */
  async workConcurrently<T extends object>(
    name: string,
    concurrency: number,
    options: Omit<PgBoss.WorkOptions, 'batchSize'>,
    handler: (job: PgBoss.Job<T>) => Promise<void>,
  ): Promise<string> {
    const worker: { id?: string } = {};
    worker.id = await this.boss.work<T>(name, { ...options, batchSize: concurrency }, async (jobs) => {
      const outcomes = await Promise.allSettled(jobs.map((job) => handler(job)));
      const done: string[] = [];
      // Failures grouped by message: one statement per distinct error, each job's output its own error.
      const failed = new Map<string, { error: unknown; ids: string[] }>();
      outcomes.forEach((outcome, index) => {
        if (outcome.status === 'fulfilled') return void done.push(jobs[index].id);
        const key = outcome.reason instanceof Error ? `${outcome.reason.name}: ${outcome.reason.message}` : String(outcome.reason);
        const group = failed.get(key) ?? { error: outcome.reason as unknown, ids: [] as string[] };
        group.ids.push(jobs[index].id);
        failed.set(key, group);
      });
      // A throw here (the database) makes pg-boss fail the batch's jobs still active; those settled stay so.
      // pg-boss then completes the batch's ids still active: none (a failed job waits ≥ 1 s for its retry).
      await Promise.all([
        ...(done.length > 0 ? [this.boss.complete(name, done)] : []),
        ...[...failed.values()].map(({ error, ids }) => this.boss.fail(name, ids, error as object)),
      ]);
      if (jobs.length >= concurrency && worker.id) this.boss.notifyWorker(worker.id);
    });
    return worker.id;
  }

  /**
   * Runs `handler` about every `seconds` on one instance at a time, whichever takes the job: the
   * queue ('short' policy, made by a migration) holds at most one pending run, keyed by its name,
   * and each run first queues the next, so a run that fails or dies does not end the series, and
   * every instance's start repairs a series that has none pending. Not pg-boss's schedule(): its cron
   * fires at most once a minute, and these intervals go down to a second (tests, retries).
   */
  async every(name: string, seconds: number, handler: () => Promise<unknown>): Promise<void> {
    await this.work(name, { pollingIntervalSeconds: Math.min(seconds, 2) }, async () => {
      await this.queueNext(name, seconds);
      await handler();
    });
    // A run queued by an instance configured with a longer interval comes forward to this one's.
    await this.rows(
      `UPDATE ${JOB_SCHEMA}.job SET start_after = now() + make_interval(secs => $2)
        WHERE name = $1 AND state = 'created' AND start_after > now() + make_interval(secs => $2)`,
      [name, seconds],
    );
    await this.queueNext(name, seconds);
  }

  private async queueNext(name: string, seconds: number): Promise<void> {
    // No retries: the next run is already queued. A run killed mid-way expires after 15 minutes.
    await this.boss.send(name, {}, { singletonKey: name, startAfter: seconds, retryLimit: 0 });
  }

  /**
   * Jobs that ran out of retries, most recently failed first, after `before` (a previous page's last).
   * Keyed on the millisecond, what a Date (and so a cursor) holds: jobs failed by one statement share
   * their completed_on to the microsecond, and a cursor cut to the millisecond would skip the rest.
   */
  failed<T extends object>(name: string, limit: number, before?: { completedOn: Date; id: string }): Promise<PgBoss.JobWithMetadata<T>[]> {
    return this.rows(
      `SELECT id, name, data, state, retry_count AS "retryCount", output, created_on AS "createdOn", completed_on AS "completedOn"
         FROM ${JOB_SCHEMA}.job
        WHERE name = $1 AND state = 'failed' AND ($3::timestamptz IS NULL OR (date_trunc('milliseconds', completed_on), id) < ($3, $4::uuid))
        ORDER BY date_trunc('milliseconds', completed_on) DESC, id DESC LIMIT $2`,
      [name, limit, before?.completedOn ?? null, before?.id ?? null],
    );
  }

  /** Gives a failed job one more attempt; false when it is not (or no longer) failed. */
  async retry(name: string, id: string): Promise<boolean> {
    const result = (await this.boss.retry(name, id)) as unknown as { affected: number };
    return result.affected > 0;
  }

  getQueueSize(name: string): Promise<number> {
    return this.boss.getQueueSize(name);
  }

  /** One job, or null (archived jobs are not looked at). */
  job<T extends object>(name: string, id: string): Promise<PgBoss.JobWithMetadata<T> | null> {
    return this.boss.getJobById<T>(name, id);
  }

  /**
   * A queue's backlog in one statement, for scrape-time gauges: jobs waiting, waiting for a retry,
   * and the age of the oldest not yet done (active included). It reads only the unfinished jobs
   * (pg-boss's partial index on state < 'active' covers most of them) and is one unnamed statement,
   * so it runs the same behind PgBouncer.
   */
  async backlog(name: string): Promise<{ waiting: number; retrying: number; oldestSeconds: number }> {
    const [row] = await this.rows<{ waiting: number; retrying: number; oldest_seconds: number }>(
      `SELECT count(*) FILTER (WHERE state = 'created')::int AS waiting, count(*) FILTER (WHERE state = 'retry')::int AS retrying,
              COALESCE(EXTRACT(EPOCH FROM now() - min(created_on)), 0)::float8 AS oldest_seconds
         FROM ${JOB_SCHEMA}.job WHERE name = $1 AND state < 'completed'`,
      [name],
    );
    return { waiting: row.waiting, retrying: row.retrying, oldestSeconds: row.oldest_seconds };
  }

  private async rows<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.poolSql().executeSql(text, values)).rows as R[];
  }

  /** pg-boss's statements on the shared pool, one checkout each (its multi-statement plans stay on one connection). */
  private poolSql(): Sql {
    return {
      executeSql: async (text, values) => {
        const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
        return pool.query(text, values);
      },
    };
  }

  /** pg-boss's statements on the transaction's own connection. */
  private transactionSql(manager: EntityManager): Sql {
    return {
      executeSql: async (text, values) => {
        const client = (await manager.queryRunner!.connect()) as PoolClient;
        return client.query(text, values);
      },
    };
  }
}
