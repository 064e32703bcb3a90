import { MigrationInterface, QueryRunner } from "typeorm";

export class MillisecondCursors1795584414809 implements MigrationInterface {
    name = 'MillisecondCursors1795584414809'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "users"
            ALTER COLUMN "created_at" TYPE TIMESTAMP(3) WITH TIME ZONE
        `);
        await queryRunner.query(`
            DROP INDEX "public"."audit_events_user_created_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."audit_events_created_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "audit_events"
            ALTER COLUMN "created_at" TYPE TIMESTAMP(3) WITH TIME ZONE
        `);
        await queryRunner.query(`
            CREATE INDEX "users_created_idx" ON "users" ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "audit_events_user_created_idx" ON "audit_events" ("user_id", "created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "audit_events_created_idx" ON "audit_events" ("created_at", "id")
        `);
    }

    // The generator wrote the recreated indexes' columns in catalog order; they are restored as declared.
    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."audit_events_created_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."audit_events_user_created_idx"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."users_created_idx"
        `);
        await queryRunner.query(`
            ALTER TABLE "audit_events"
            ALTER COLUMN "created_at" TYPE TIMESTAMP(6) WITH TIME ZONE
        `);
        await queryRunner.query(`
            CREATE INDEX "audit_events_created_idx" ON "audit_events" USING btree ("created_at", "id")
        `);
        await queryRunner.query(`
            CREATE INDEX "audit_events_user_created_idx" ON "audit_events" USING btree ("user_id", "created_at", "id")
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ALTER COLUMN "created_at" TYPE TIMESTAMP(6) WITH TIME ZONE
        `);
    }

}
