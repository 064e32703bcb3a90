import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { SealedSecret } from '../crypto/sealed-secret';
import { EncryptionKeyMissingError, UndecryptableError } from '../crypto/token-cipher';
import { GoogleRejectedError } from '../google/google-errors';
import { GoogleOAuthClient } from '../google/google-oauth.client';
import { JobQueue } from '../jobs/job-queue';
import { GoogleRevocation } from './google-revocation.entity';
import { describeError } from '../database/database-error';
import { revocationLeaseSeconds } from './revocation-lease';

const MAX_BACKOFF_SECONDS = 3600;
const BATCH = 20;
export const REVOCATION_RETRY_QUEUE = 'google-revocation-retry';

/**
 * Revokes grants at Google through an outbox: `enqueue` writes inside the caller's transaction,
 * `attempt` tries right after commit, and a recurring job (pg-boss: one instance at a time, every
 * REVOCATION_RETRY_SECONDS) retries what is due, one row at a time, each claimed with SKIP LOCKED for
 * a short lease, so that passes never send the same one twice at once and an instance killed
 * mid-pass holds back only the row it was sending, for one lease.
 */
@Injectable()
export class GoogleRevocationsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(GoogleRevocationsService.name);

  constructor(
    @InjectRepository(GoogleRevocation) private readonly revocations: Repository<GoogleRevocation>,
    private readonly oauth: GoogleOAuthClient,
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async enqueue(manager: EntityManager, revocation: { token: string; googleUserId: string; userId: string | null }): Promise<string> {
    // The id is chosen here so that the token can be sealed for its row.
    const id = randomUUID();
    await manager.insert(GoogleRevocation, {
      ...revocation,
      id,
      token: SealedSecret.for(id, revocation.token),
      nextAttemptAt: new Date(Date.now() + this.config.revocationRetrySeconds * 1000),
    });
    return id;
  }

  /**
   * Revokes a grant that no link holds (a refused partial grant) through the outbox: tried now and,
   * if Google cannot be reached, retried until it succeeds, like an unlink.
   */
  async revoke(revocation: { token: string; googleUserId: string; userId: string | null }): Promise<void> {
    await this.attempt(await this.enqueue(this.revocations.manager, revocation));
  }

  /**
   * Tries one revocation now, after the caller's change committed: false when it could not be done
   * (it stays queued for the timer). Never throws: a database failure here (reading or rescheduling
   * the row) must not turn a committed unlink into an error answer; the queued row is retried.
   */
  async attempt(id: string): Promise<boolean> {
    try {
      return await this.tryNow(id);
    } catch (error) {
      // The error's class and code only: a database error's message can quote row values.
      const code = (error as { code?: unknown }).code;
      this.logger.warn({ revocationId: id, error: (error as Error).name, code }, 'A queued revocation could not be tried now; the retry timer will');
      return false;
    }
  }

  private async tryNow(id: string): Promise<boolean> {
    const revocation = await this.revocations.findOneBy({ id });
    return revocation ? this.send(revocation) : true;
  }

  async retryDue(): Promise<number> {
    let done = 0;
    for (let sent = 0; sent < BATCH; sent += 1) {
      const id = await this.claimDue();
      if (!id) break;
      if (await this.tryNow(id)) done += 1;
    }
    return done;
  }

  /** The most overdue revocation no other pass holds, leased to this one; undefined when none is due. */
  private async claimDue(): Promise<string | undefined> {
    // For UPDATE, TypeORM's postgres driver answers [rows, affected].
    const [claimed]: [Array<{ id: string }>, number] = await this.revocations.query(
      `UPDATE google_revocations SET next_attempt_at = now() + make_interval(secs => $1)
        WHERE id = (SELECT id FROM google_revocations WHERE next_attempt_at <= now()
                     ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [revocationLeaseSeconds(this.config.google.httpTimeoutMs)],
    );
    return claimed[0]?.id;
  }

  /** pg-boss's graceful stop waits for a pass in progress, before the database pool closes. */
  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.every(REVOCATION_RETRY_QUEUE, this.config.revocationRetrySeconds, () =>
      this.retryDue().catch((error: unknown) => this.logger.warn(`Revocation retry pass failed: ${describeError(error)}`)),
    );
  }

  private async send(revocation: GoogleRevocation): Promise<boolean> {
    let token: string;
    try {
      token = revocation.token.open(revocation.id);
    } catch (error) {
      if (!(error instanceof UndecryptableError)) throw error;
      return this.unreadable(revocation, error);
    }
    try {
      await this.oauth.revoke(token);
    } catch (error) {
      // Google refusing the token (already revoked or expired) means there is nothing left to revoke.
      if (!(error instanceof GoogleRejectedError)) {
        const delay = await this.postpone(revocation, (error as Error).message);
        this.logger.warn({ googleUserId: revocation.googleUserId, attempts: revocation.attempts + 1 }, `Revocation at Google failed; retrying in ${delay} s`);
        return false;
      }
    }
    await this.revocations.delete({ id: revocation.id });
    return true;
  }

  /** Backs off exponentially; answers the delay in seconds. */
  private async postpone(revocation: GoogleRevocation, reason: string): Promise<number> {
    const attempts = revocation.attempts + 1;
    const delay = Math.min(this.config.revocationRetrySeconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS);
    await this.revocations.update({ id: revocation.id }, { attempts, nextAttemptAt: new Date(Date.now() + delay * 1000), lastError: reason.slice(0, 200) });
    return delay;
  }

  /**
   * A token that cannot be decrypted is never sent. Under a key that is not configured it waits (the
   * key may be put back); damaged, it can never be sent, so it is dropped. Either way the log names
   * the key id, never the value.
   */
  private async unreadable(revocation: GoogleRevocation, error: UndecryptableError): Promise<false> {
    const context = { revocationId: revocation.id, googleUserId: revocation.googleUserId, keyId: error.keyId ?? null };
    if (error instanceof EncryptionKeyMissingError) {
      const delay = await this.postpone(revocation, error.message);
      this.logger.warn(context, `A queued revocation is sealed with key id ${error.keyId}, which ENCRYPTION_KEYS lacks; retrying in ${delay} s`);
    } else {
      await this.revocations.delete({ id: revocation.id });
      this.logger.error(context, 'A queued revocation cannot be decrypted (damaged): dropped, its grant was not revoked at Google');
    }
    return false;
  }
}
