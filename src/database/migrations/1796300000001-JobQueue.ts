import { MigrationInterface, QueryRunner } from 'typeorm';
import PgBoss from 'pg-boss';

const SCHEMA = 'pgboss';
/** pg-boss's schema version this migration creates; a pg-boss upgrade that changes it needs a new migration. */
const PG_BOSS_SCHEMA_VERSION = 24;
/** Each queue is a partition, created here so that the service never runs DDL outside a migration. */
const QUEUES = ['webhook-delivery'];

/**
 * The job queue's tables (pg-boss), created by a migration rather than by pg-boss at start-up
 * (the service starts pg-boss with `migrate: false`). pg-boss wraps its plan in BEGIN/COMMIT; the
 * migration's own transaction replaces that wrapper, so the schema and the migration row commit together.
 */
export class JobQueue1796300000001 implements MigrationInterface {
  name = 'JobQueue1796300000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const plan = PgBoss.getConstructionPlans(SCHEMA);
    const unwrapped = /^\s*BEGIN;([\s\S]*)COMMIT;\s*$/.exec(plan);
    if (!unwrapped || !plan.includes(`INSERT INTO ${SCHEMA}.version(version) VALUES ('${PG_BOSS_SCHEMA_VERSION}')`)) {
      throw new Error(`pg-boss's construction plan is not the one for schema version ${PG_BOSS_SCHEMA_VERSION}: write a migration for this pg-boss version`);
    }
    await queryRunner.query(unwrapped[1]);
    for (const queue of QUEUES) {
      await queryRunner.query(`SELECT ${SCHEMA}.create_queue($1, $2)`, [queue, JSON.stringify({ policy: 'standard' })]);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
  }
}
