import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { Metrics, sampled } from '../../common/metrics/metrics.js';

/** The webhook inbox seen from outside: how much is stored but not applied yet, and since when. */
@Injectable()
export class WebhookInboxMetrics {
  constructor(ds: DataSource, clock: Clock, metrics: Metrics) {
    // One query for both gauges, on the partial index of pending events.
    const read = sampled(async () => {
      const [row] = (await ds.query(
        `SELECT count(*)::int AS depth,
                (SELECT received_at FROM webhook_events WHERE status = 'pending' ORDER BY id LIMIT 1) AS oldest
           FROM webhook_events WHERE status = 'pending'`,
      )) as Array<{ depth: number; oldest: Date | null }>;
      return { depth: row!.depth, age: row!.oldest ? Math.max(0, (clock.now().getTime() - new Date(row!.oldest).getTime()) / 1000) : 0 };
    });
    metrics.gauge('testigo_webhook_inbox_depth', 'Webhook events stored and not yet applied (status pending)', [], async () => (await read()).depth);
    metrics.gauge('testigo_webhook_inbox_oldest_age_seconds', 'Age of the oldest pending webhook event, in seconds (0 when none)', [], async () => (await read()).age);
  }
}
