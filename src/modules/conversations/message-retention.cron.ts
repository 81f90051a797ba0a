import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { setTimeout as pause } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { AppConfig } from '../../config/app-config.js';
import { MessagesService } from '../messages/messages.service.js';
import { TenantsService } from '../tenants/tenants.service.js';

/** Processes taken per round, and messages purged per statement: small, so each transaction holds few row locks. */
const PROCESSES_PER_ROUND = 50;
const MESSAGES_PER_BATCH = 500;
/** Between statements: lets webhook acknowledgements and sends through first (a purge is never urgent). */
const PAUSE_MS = 5;
const DAY_MS = 86_400_000;

/**
 * Retention of message bodies: `MESSAGES_RETENTION_DAYS` (400) after a process finished (or the tenant's own
 * `messages_retention_days`), the bodies and media of its messages are deleted, in small batches, oldest first. The
 * process, its answers, the message rows (status, times, ids) and the evidence log stay: evidence has its own
 * custody rules. Every 10 minutes on every instance (the batches skip rows another instance holds).
 */
@Injectable()
export class MessageRetentionCron {
  private readonly logger = new Logger(MessageRetentionCron.name);
  private readonly runs: CronRun;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly messages: MessagesService,
    private readonly tenants: TenantsService,
    workers: Workers,
  ) {
    this.runs = workers.cron(MessageRetentionCron.name, () => this.purgeExpired());
  }

  @Interval(600_000)
  tick(): Promise<void> {
    return this.runs.run();
  }

  /** Purges every process past its retention; returns how many processes and messages. */
  async purgeExpired(): Promise<{ processes: number; messages: number; media: number }> {
    const overrides = await this.tenants.messagesRetentionOverrides();
    const now = this.clock.now();
    const shortest = Math.min(this.config.MESSAGES_RETENTION_DAYS, ...overrides.map((o) => o.days));
    const total = { processes: 0, messages: 0, media: 0 };
    for (;;) {
      // processes_retention_idx, from the oldest finished process, bounded by the shortest retention of any tenant.
      const due = (await this.ds.query(
        `SELECT p.id FROM processes p
           LEFT JOIN unnest($1::text[], $2::int[]) AS o(tenant_id, days) ON o.tenant_id = p.tenant_id
          WHERE p.status <> 'pending' AND p.messages_purged_at IS NULL AND p.finished_at < $3
            AND p.finished_at < $4::timestamptz - make_interval(days => COALESCE(o.days, $5))
          ORDER BY p.finished_at LIMIT $6`,
        [
          overrides.map((o) => o.tenantId),
          overrides.map((o) => o.days),
          new Date(now.getTime() - shortest * DAY_MS),
          now,
          this.config.MESSAGES_RETENTION_DAYS,
          PROCESSES_PER_ROUND,
        ],
      )) as Array<{ id: string }>;
      if (due.length === 0) break;
      const ids = due.map((d) => d.id);
      for (;;) {
        const purged = await this.messages.purgeBodiesOf(ids, MESSAGES_PER_BATCH);
        total.messages += purged.messages;
        total.media += purged.media;
        if (purged.messages < MESSAGES_PER_BATCH) break;
        await pause(PAUSE_MS);
      }
      await this.ds.query(`UPDATE processes SET messages_purged_at = $2 WHERE id = ANY($1) AND messages_purged_at IS NULL`, [ids, now]);
      total.processes += ids.length;
      await pause(PAUSE_MS);
    }
    if (total.processes > 0) this.logger.log({ ...total }, 'message bodies past their retention purged');
    return total;
  }
}
