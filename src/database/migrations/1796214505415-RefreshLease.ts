import { MigrationInterface, QueryRunner } from "typeorm";

export class RefreshLease1796214505415 implements MigrationInterface {
    name = 'RefreshLease1796214505415'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users"
            ADD "refresh_lease_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users"
            ADD "refresh_lease_until" TIMESTAMP WITH TIME ZONE
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" DROP COLUMN "refresh_lease_until"
        `);
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" DROP COLUMN "refresh_lease_id"
        `);
    }

}
