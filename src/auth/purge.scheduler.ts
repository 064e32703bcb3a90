import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { OAuthStatesService } from './oauth-states.service';
import { SessionsService } from './sessions.service';

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
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly sessions: SessionsService,
    private readonly states: OAuthStatesService,
  ) {}

  /** What is purged. Add a new expiring table here. */
  protected purgeTasks(): PurgeTask[] {
    return [
      ['sessions', () => this.sessions.purgeExpired()],
      ['OAuth states', () => this.states.purgeExpired()],
    ];
  }

  onApplicationBootstrap(): void {
    // unref: a pending purge never keeps the process alive.
    this.timer = setInterval(() => void this.purgeExpired(), PURGE_INTERVAL_MS).unref();
  }

  /** Stops the timer and waits for a purge in progress, before the database pool is closed. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs every task once; overlapping ticks are skipped rather than queued. */
  purgeExpired(): Promise<void> {
    this.running ??= this.runTasks().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runTasks(): Promise<void> {
    for (const [what, purge] of this.purgeTasks()) {
      try {
        const purged = await purge();
        this.logger.debug(`Purged ${purged} expired ${what}`);
      } catch (error) {
        this.logger.warn(`Could not purge expired ${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
