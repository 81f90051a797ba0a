import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AppConfig } from '../../config/app-config.js';
import { TemplatesService } from './templates.service.js';

/** Retries template submissions and polls templates still in review. Safe on every instance (claims skip locked rows). */
@Injectable()
export class TemplatesCron {
  private readonly logger = new Logger(TemplatesCron.name);
  private busy = false;

  constructor(
    private readonly templates: TemplatesService,
    private readonly config: AppConfig,
  ) {}

  @Interval(15_000)
  async tick(): Promise<void> {
    if (!this.config.WORKERS_ENABLED || this.busy) return;
    this.busy = true;
    try {
      await this.templates.retrySubmissions();
      await this.templates.pollPending();
    } catch (err) {
      this.logger.error({ err }, 'templates tick failed');
    } finally {
      this.busy = false;
    }
  }
}
