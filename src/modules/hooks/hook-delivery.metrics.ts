import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { Metrics, sampled } from '../../common/metrics/metrics.js';

/** Hook deliveries seen from outside: the backlog and the failed tries. */
@Injectable()
export class HookDeliveryMetrics {
  readonly failures: Counter<'reason'>;

  constructor(ds: DataSource, metrics: Metrics) {
    this.failures = metrics.counter('testigo_hook_delivery_failures_total', 'Hook delivery tries that failed (retried later), and deliveries given up', ['reason']);
    // On the partial index of deliveries still to make.
    const backlog = sampled(async () => {
      const [row] = (await ds.query(`SELECT count(*)::int AS n FROM hook_deliveries WHERE status IN ('pending', 'sending')`)) as Array<{ n: number }>;
      return row!.n;
    });
    metrics.gauge('testigo_hook_backlog', 'Hook deliveries not yet made (pending or being sent, including those waiting for a retry)', [], backlog);
  }
}
