import { MigrationInterface, QueryRunner } from "typeorm";

export class LinkUserCreatedAt1796157867156 implements MigrationInterface {
    name = 'LinkUserCreatedAt1796157867156'

    // Generated, then split so that existing links are filled in from their users before NOT NULL.
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users"
            ADD "user_created_at" TIMESTAMP(3) WITH TIME ZONE
        `);
        await queryRunner.query(`
            UPDATE "google_oauth2_users" "link"
            SET "user_created_at" = "user"."created_at"
            FROM "users" "user"
            WHERE "user"."id" = "link"."user_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users"
            ALTER COLUMN "user_created_at" SET NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "google_oauth2_users_user_created_idx" ON "google_oauth2_users" ("user_created_at", "user_id")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."google_oauth2_users_user_created_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" DROP COLUMN "user_created_at"
        `);
    }

}
