import { Logger } from '@nestjs/common';

/**
 * The runs of a periodic task (an `@Interval` cron): one at a time (a tick that finds the previous run still going
 * does nothing), none when not `enabled`, a failure logged, and `stop()` waiting for the run under way, so that
 * shutdown closes the database only after it.
 */
export class CronRun {
  private current: Promise<void> | null = null;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    name: string,
    private readonly task: () => Promise<unknown>,
    private readonly enabled = true,
  ) {
    this.logger = new Logger(name);
  }

  /** Starts a run unless one is under way or the app is stopping; resolves when the run (or the one under way) ends. */
  run(): Promise<void> {
    if (this.stopped || !this.enabled) return Promise.resolve();
    this.current ??= this.task()
      .then(
        () => undefined,
        (err: unknown) => this.logger.error({ err }, 'tick failed'),
      )
      .finally(() => {
        this.current = null;
      });
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current;
  }
}
