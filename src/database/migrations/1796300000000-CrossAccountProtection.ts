import { MigrationInterface, QueryRunner } from 'typeorm';

export class CrossAccountProtection1796300000000 implements MigrationInterface {
  name = 'CrossAccountProtection1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "risc_events" (
                "jti" character varying(255) NOT NULL,
                "event_types" text NOT NULL,
                "google_user_id" character varying(255),
                "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_risc_events_jti" PRIMARY KEY ("jti")
            )
        `);
    await queryRunner.query(`
            CREATE TABLE "google_account_blocks" (
                "google_user_id" character varying(255) NOT NULL,
                "disabled_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "reason" character varying(64),
                CONSTRAINT "PK_google_account_blocks" PRIMARY KEY ("google_user_id")
            )
        `);
    // Google revoked the grant: the link is kept (to reconnect) but holds no token any more.
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ALTER COLUMN "access_token" DROP NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ALTER COLUMN "refresh_token" DROP NOT NULL
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // A link without tokens cannot be kept under NOT NULL: it has to be connected again anyway.
    await queryRunner.query(`
            DELETE FROM "google_oauth2_users" WHERE "access_token" IS NULL OR "refresh_token" IS NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ALTER COLUMN "refresh_token" SET NOT NULL
        `);
    await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" ALTER COLUMN "access_token" SET NOT NULL
        `);
    await queryRunner.query(`
            DROP TABLE "google_account_blocks"
        `);
    await queryRunner.query(`
            DROP TABLE "risc_events"
        `);
  }
}
