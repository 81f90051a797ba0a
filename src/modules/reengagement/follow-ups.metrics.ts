import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { Metrics, sampled } from '../../common/metrics/metrics.js';

/** Follow-ups whose time has come and that are not sent yet. */
@Injectable()
export class FollowUpsMetrics {
  constructor(ds: DataSource, clock: Clock, metrics: Metrics) {
    // On the partial index of scheduled follow-ups.
    const due = sampled(async () => {
      const [row] = (await ds.query(`SELECT count(*)::int AS n FROM follow_ups WHERE status = 'scheduled' AND due_at <= $1`, [clock.now()])) as Array<{ n: number }>;
      return row!.n;
    });
    metrics.gauge('testigo_follow_ups_due', 'Follow-ups due now and not yet sent (a backlog means the sender is behind)', [], due);
  }
}
