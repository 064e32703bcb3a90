import { MigrationInterface, QueryRunner } from 'typeorm';

/** The recurring jobs and the link checks, each a pg-boss queue (a partition) made here, not at start-up. */
const QUEUES = ['link-health-sweep', 'link-health-check', 'google-revocation-retry', 'expired-rows-purge'];

/**
 * When a link last obtained tokens from Google (linked or refreshed), for the background link-health
 * check: `updated_at` also moves on scope, status and e-mail changes, so it cannot say that.
 * Existing rows start from their access token's expiry less Google's one-hour lifetime, which is
 * when that token was obtained. The partial index serves the sweep's "active, oldest first" pages.
 */
export class LinkHealth1796400000001 implements MigrationInterface {
  name = 'LinkHealth1796400000001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ADD "tokens_refreshed_at" TIMESTAMP WITH TIME ZONE
        `);
    await queryRunner.query(`
            UPDATE "google_oauth2_users" SET "tokens_refreshed_at" = "access_token_expires_at" - interval '1 hour'
        `);
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ALTER COLUMN "tokens_refreshed_at" SET NOT NULL,
              ALTER COLUMN "tokens_refreshed_at" SET DEFAULT now()
        `);
    await queryRunner.query(`
            CREATE INDEX "google_oauth2_users_refresh_due_idx" ON "google_oauth2_users" ("tokens_refreshed_at", "id")
            WHERE "status" = 'active'
        `);
    for (const queue of QUEUES) {
      await queryRunner.query(`SELECT pgboss.create_queue($1, $2)`, [queue, JSON.stringify({ policy: 'short' })]);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const queue of [...QUEUES].reverse()) {
      await queryRunner.query(`SELECT pgboss.delete_queue($1)`, [queue]);
    }
    await queryRunner.query(`
            DROP INDEX "public"."google_oauth2_users_refresh_due_idx"
        `);
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" DROP COLUMN "tokens_refreshed_at"
        `);
  }
}
