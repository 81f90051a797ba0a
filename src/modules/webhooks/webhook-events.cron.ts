import { Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { WebhookEventsService } from './webhook-events.service.js';

/** Purges expired webhook events every 10 minutes. Safe on every instance (the deletes skip locked rows). */
@Injectable()
export class WebhookEventsCron {
  private readonly runs: CronRun;

  constructor(events: WebhookEventsService, workers: Workers) {
    this.runs = workers.cron(WebhookEventsCron.name, () => events.purgeExpired());
  }

  @Interval(600_000)
  tick(): Promise<void> {
    return this.runs.run();
  }
}
