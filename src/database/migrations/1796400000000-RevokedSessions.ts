import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions ended by Google's security events leave their token hash and the reason, so the browser
 * still holding the cookie can be told why; and the users/me notice reads its audit events by index.
 */
export class RevokedSessions1796400000000 implements MigrationInterface {
  name = 'RevokedSessions1796400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "revoked_sessions" (
                "token_hash" bytea NOT NULL,
                "user_id" uuid NOT NULL,
                "reason" character varying(32) NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                CONSTRAINT "PK_revoked_sessions_token_hash" PRIMARY KEY ("token_hash")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "revoked_sessions_user_idx" ON "revoked_sessions" ("user_id")
        `);
    await queryRunner.query(`
            CREATE INDEX "revoked_sessions_expires_idx" ON "revoked_sessions" ("expires_at")
        `);
    await queryRunner.query(`
            ALTER TABLE "revoked_sessions"
            ADD CONSTRAINT "FK_revoked_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    // users/me's notice: the latest of these actions, without reading the user's whole history.
    await queryRunner.query(`
            CREATE INDEX "audit_events_google_notice_idx" ON "audit_events" ("user_id", "created_at", "id")
            WHERE action IN ('google.tokens_revoked', 'google.account_disabled', 'google.account_enabled', 'google.credential_change_required')
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."audit_events_google_notice_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "revoked_sessions"
        `);
  }
}
