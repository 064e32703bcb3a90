import { MigrationInterface, QueryRunner } from "typeorm";

export class EmailAsciiLowercase1796196122267 implements MigrationInterface {
    name = 'EmailAsciiLowercase1796196122267'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "users" DROP CONSTRAINT "users_email_lowercase"
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD CONSTRAINT "users_email_ascii_lowercase" CHECK (
                    "email" = translate(
                        "email",
                        'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                        'abcdefghijklmnopqrstuvwxyz'
                    )
                )
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "users" DROP CONSTRAINT "users_email_ascii_lowercase"
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD CONSTRAINT "users_email_lowercase" CHECK (((email)::text = lower((email)::text)))
        `);
    }

}
