import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { CronRun } from '../../common/workers/cron-run.js';
import { Interval } from '@nestjs/schedule';
import { AppConfig } from '../../config/app-config.js';
import { FollowUpsService } from './follow-ups.service.js';

/**
 * Sends due follow-ups every 2 seconds. Safe on every instance: each batch claims its rows with FOR UPDATE SKIP
 * LOCKED, so concurrent instances split the due rows and each follow-up is queued once.
 */
@Injectable()
export class FollowUpsCron implements BeforeApplicationShutdown {
  private readonly runs = new CronRun(FollowUpsCron.name, () => this.tick());

  constructor(
    private readonly followUps: FollowUpsService,
    private readonly config: AppConfig,
  ) {}

  @Interval(2_000)
  onInterval(): Promise<void> {
    return this.config.WORKERS_ENABLED ? this.runs.run() : Promise.resolve();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runs.stop();
  }

  /** Claims and queues due follow-ups in batches of `limit` until a batch comes back short; returns how many. */
  async tick(limit = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.followUps.sendDue(limit);
      total += n;
      if (n < limit) return total;
    }
  }
}
