import { MigrationInterface, QueryRunner } from "typeorm";

export class OAuthStateUseAndSession1796196230130 implements MigrationInterface {
    name = 'OAuthStateUseAndSession1796196230130'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ADD "session_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ADD "used_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ALTER COLUMN "code_verifier" DROP NOT NULL
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ALTER COLUMN "nonce" DROP NOT NULL
        `);
        await queryRunner.query(`
            CREATE INDEX "oauth_states_session_idx" ON "oauth_states" ("session_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ADD CONSTRAINT "FK_424042a181528a683c5edc2aaef" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "oauth_states" DROP CONSTRAINT "FK_424042a181528a683c5edc2aaef"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."oauth_states_session_idx"
        `);
        // Generated, then: used states hold no verifier or nonce, and without used_at they would be usable again.
        await queryRunner.query(`
            DELETE FROM "oauth_states" WHERE "used_at" IS NOT NULL
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ALTER COLUMN "nonce"
            SET NOT NULL
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ALTER COLUMN "code_verifier"
            SET NOT NULL
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states" DROP COLUMN "used_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states" DROP COLUMN "session_id"
        `);
    }

}
