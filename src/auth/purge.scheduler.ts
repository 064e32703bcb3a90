import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import { OAuthStateStore } from './google-oauth/oauth-state.store';
import { SessionsService } from './sessions/sessions.service';
import { describeError } from '../database/database-error';

export const PURGE_INTERVAL_MS = 5 * 60_000;

type PurgeTask = readonly [what: string, purge: () => Promise<number>];

/**
 * Deletes expired rows every few minutes on every instance (the deletes are idempotent, so
 * instances need no coordination). A failure, e.g. the database being down, is logged and retried
 * at the next tick: it never stops the process.
 */
@Injectable()
export class PurgeScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PurgeScheduler.name);
  private readonly task = new PeriodicTask(PURGE_INTERVAL_MS, () => this.runTasks());

  constructor(
    private readonly sessions: SessionsService,
    private readonly states: OAuthStateStore,
  ) {}

  /** What is purged. Add a new expiring table here. */
  protected purgeTasks(): PurgeTask[] {
    return [
      ['sessions', () => this.sessions.purgeExpired()],
      ['revoked sessions', () => this.sessions.purgeExpiredRevocations()],
      ['OAuth states', () => this.states.purgeExpired()],
    ];
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** Stops the timer and waits for a purge in progress, before the database pool is closed. */
  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** Runs every task once; overlapping ticks are skipped rather than queued. */
  purgeExpired(): Promise<void> {
    return this.task.runNow();
  }

  private async runTasks(): Promise<void> {
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
