/**
 * A background job on a timer: unref'd (it never keeps the process alive), one run at a time
 * (a tick that finds the previous run still going is skipped, not queued), and stoppable in a
 * way that waits for the run in progress, so shutdown can close the database after it.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runNow(), this.intervalMs).unref();
  }

  /** Runs the work now, or joins the run already in progress. `work` must not throw. */
  runNow(): Promise<void> {
    this.running ??= this.work().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
