import { MigrationInterface, QueryRunner } from "typeorm";

export class GoogleLinks1795582687047 implements MigrationInterface {
    name = 'GoogleLinks1795582687047'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "oauth_states" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "state_hash" bytea NOT NULL,
                "purpose" character varying(16) NOT NULL,
                "user_id" uuid,
                "browser_hash" bytea NOT NULL,
                "code_verifier" text NOT NULL,
                "nonce" character varying(64) NOT NULL,
                "next_path" character varying(512),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "UQ_5defe4681c33ccfc0f935f51398" UNIQUE ("state_hash"),
                CONSTRAINT "PK_c9df6e4203e8ca042bfe5bd00ec" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "oauth_states_expires_idx" ON "oauth_states" ("expires_at")
        `);
        await queryRunner.query(`
            CREATE TABLE "google_oauth2_users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "user_id" uuid NOT NULL,
                "google_user_id" character varying(255) NOT NULL,
                "email" character varying(320) NOT NULL,
                "access_token" text NOT NULL,
                "refresh_token" text NOT NULL,
                "access_token_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "oauth_scope" text NOT NULL,
                "status" character varying(16) NOT NULL DEFAULT 'active',
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_e0d0af6f66ba6032237f86b983c" UNIQUE ("google_user_id"),
                CONSTRAINT "REL_0080381a68e4a13edc69cb97dc" UNIQUE ("user_id"),
                CONSTRAINT "PK_2c9dc74506c21d166388cc61e30" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "google_revocations" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "token" text NOT NULL,
                "google_user_id" character varying(255) NOT NULL,
                "user_id" uuid,
                "attempts" integer NOT NULL DEFAULT '0',
                "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "last_error" character varying(200),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_981da5a840a855586e58f936f6c" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "google_revocations_due_idx" ON "google_revocations" ("next_attempt_at")
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states"
            ADD CONSTRAINT "FK_73e9bb2ca346c18abb52343c456" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users"
            ADD CONSTRAINT "FK_0080381a68e4a13edc69cb97dc9" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "google_oauth2_users" DROP CONSTRAINT "FK_0080381a68e4a13edc69cb97dc9"
        `);
        await queryRunner.query(`
            ALTER TABLE "oauth_states" DROP CONSTRAINT "FK_73e9bb2ca346c18abb52343c456"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."google_revocations_due_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "google_revocations"
        `);
        await queryRunner.query(`
            DROP TABLE "google_oauth2_users"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."oauth_states_expires_idx"
        `);
        await queryRunner.query(`
            DROP TABLE "oauth_states"
        `);
    }

}
