import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobQueue } from '../jobs/job-queue';
import { OAuthStateStore } from './google-oauth/oauth-state.store';
import { SessionsService } from './sessions/sessions.service';
import { describeError } from '../database/database-error';

export const PURGE_QUEUE = 'expired-rows-purge';
export const PURGE_INTERVAL_SECONDS = 5 * 60;

type PurgeTask = readonly [what: string, purge: () => Promise<number>];

/**
 * Deletes expired rows every few minutes, as a recurring pg-boss job: one instance at a time takes
 * each run (the deletes are idempotent, so a run outliving its interval is harmless). A failure, e.g.
 * the database being down, is logged and retried at the next run: it never stops the process.
 * pg-boss's graceful stop waits for a run in progress, before the database pool is closed.
 */
@Injectable()
export class PurgeScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(PurgeScheduler.name);

  constructor(
    private readonly sessions: SessionsService,
    private readonly states: OAuthStateStore,
    private readonly jobs: JobQueue,
  ) {}

  /** What is purged. Add a new expiring table here. */
  protected purgeTasks(): PurgeTask[] {
    return [
      ['sessions', () => this.sessions.purgeExpired()],
      ['revoked sessions', () => this.sessions.purgeExpiredRevocations()],
      ['OAuth states', () => this.states.purgeExpired()],
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.every(PURGE_QUEUE, PURGE_INTERVAL_SECONDS, () => this.purgeExpired());
  }

  /** Runs every task once; one failing does not stop the others. */
  async purgeExpired(): Promise<void> {
    for (const [what, purge] of this.purgeTasks()) {
      try {
        const purged = await purge();
        this.logger.debug(`Purged ${purged} expired ${what}`);
      } catch (error) {
        this.logger.warn(`Could not purge expired ${what}: ${describeError(error)}`);
      }
    }
  }
}
