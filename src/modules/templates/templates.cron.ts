import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { CronRun } from '../../common/workers/cron-run.js';
import { AppConfig } from '../../config/app-config.js';
import { TemplatesService } from './templates.service.js';

/** Retries template submissions and polls templates still in review. Safe on every instance (claims skip locked rows). */
@Injectable()
export class TemplatesCron implements BeforeApplicationShutdown {
  private readonly runs = new CronRun(TemplatesCron.name, async () => {
    await this.templates.retrySubmissions();
    await this.templates.pollPending();
  });

  constructor(
    private readonly templates: TemplatesService,
    private readonly config: AppConfig,
  ) {}

  @Interval(15_000)
  tick(): Promise<void> {
    return this.config.WORKERS_ENABLED ? this.runs.run() : Promise.resolve();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.runs.stop();
  }
}
