import { Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { TemplatesService } from './templates.service.js';

/** Retries template submissions and polls templates still in review. Safe on every instance (claims skip locked rows). */
@Injectable()
export class TemplatesCron {
  private readonly runs: CronRun;

  constructor(
    private readonly templates: TemplatesService,
    workers: Workers,
  ) {
    this.runs = workers.cron(TemplatesCron.name, async () => {
      await this.templates.retrySubmissions();
      await this.templates.pollPending();
    });
  }

  @Interval(15_000)
  tick(): Promise<void> {
    return this.runs.run();
  }
}
