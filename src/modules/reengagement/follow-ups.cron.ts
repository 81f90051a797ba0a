import { Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { FollowUpsService } from './follow-ups.service.js';

/**
 * Sends due follow-ups every 2 seconds. Safe on every instance: each batch claims its rows with FOR UPDATE SKIP
 * LOCKED, so concurrent instances split the due rows and each follow-up is queued once.
 */
@Injectable()
export class FollowUpsCron {
  private readonly runs: CronRun;

  constructor(
    private readonly followUps: FollowUpsService,
    workers: Workers,
  ) {
    this.runs = workers.cron(FollowUpsCron.name, () => this.tick());
  }

  @Interval(2_000)
  onInterval(): Promise<void> {
    return this.runs.run();
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
