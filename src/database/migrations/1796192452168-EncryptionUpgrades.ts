import { MigrationInterface, QueryRunner } from "typeorm";

export class EncryptionUpgrades1796192452168 implements MigrationInterface {
    name = 'EncryptionUpgrades1796192452168'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "encryption_upgrades" (
                "name" character varying(64) NOT NULL,
                "completed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_89a6948d362c0efdd2643d38a28" PRIMARY KEY ("name")
            )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP TABLE "encryption_upgrades"
        `);
    }

}
