import { checkCursor } from '../../common/http/pagination.js';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { LinesService } from '../tenants/lines.service.js';
import type { ListWebhookEventsQueryDto, WebhookEventRow } from './dto/webhook-event.dto.js';

const PURGE_BATCH = 5000;
const DAY_MS = 86_400_000;

/** Stored webhook calls as their tenant and the operator see them: the ones to look at, and their retention. */
@Injectable()
export class WebhookEventsService {
  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly lines: LinesService,
  ) {}

  /** The tenant's lines' events in `status`, newest first. */
  async list(tenantId: string, q: ListWebhookEventsQueryDto): Promise<{ items: WebhookEventRow[]; next_cursor: string | null }> {
    checkCursor(q.cursor, 'WHE');
    const lineIds = await this.lines.idsOfTenant(tenantId);
    const limit = q.limit ?? 20;
    const rows: WebhookEventRow[] = await this.ds.query(
      `SELECT id, source, line_id, status, received_at, processed_at, attempts, error, summary FROM webhook_events
        WHERE line_id = ANY($1) AND status = $2 AND ($3::text IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [lineIds, q.status, q.cursor ?? null, limit + 1],
    );
    const items = rows.slice(0, limit);
    return { items, next_cursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * Deletes finished events (processed, ignored, unknown_line, failed) received more than WEBHOOK_EVENTS_RETENTION_DAYS
   * ago, in batches; pending ones are never touched. Returns how many.
   */
  async purgeExpired(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.WEBHOOK_EVENTS_RETENTION_DAYS * DAY_MS);
    let total = 0;
    for (;;) {
      const [, deleted] = (await this.ds.query(
        `DELETE FROM webhook_events WHERE id IN (
           SELECT id FROM webhook_events WHERE status <> 'pending' AND received_at < $1
            ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        [cutoff, PURGE_BATCH],
      )) as [unknown, number];
      total += deleted;
      if (deleted < PURGE_BATCH) return total;
    }
  }
}
