import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { Pool, PoolClient } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { describeError } from '../database/database-error';

export const JOB_SCHEMA = 'pgboss';

type Sql = PgBoss.Db;

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
    this.boss = new PgBoss({ db: this.poolSql(), schema: JOB_SCHEMA, migrate: false, supervise: true, schedule: true });
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

  /** Jobs that ran out of retries, newest first. */
  failed<T extends object>(name: string, limit: number): Promise<PgBoss.JobWithMetadata<T>[]> {
    return this.rows(
      `SELECT id, name, data, state, retry_count AS "retryCount", output, created_on AS "createdOn", completed_on AS "completedOn"
         FROM ${JOB_SCHEMA}.job WHERE name = $1 AND state = 'failed' ORDER BY completed_on DESC LIMIT $2`,
      [name, limit],
    );
  }

  retry(name: string, id: string): Promise<void> {
    return this.boss.retry(name, id);
  }

  getQueueSize(name: string): Promise<number> {
    return this.boss.getQueueSize(name);
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
