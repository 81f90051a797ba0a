import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Metrics, sampled } from '../../common/metrics/metrics.js';

/** Processes by status. */
@Injectable()
export class ProcessesMetrics {
  constructor(ds: DataSource, metrics: Metrics) {
    // An index-only scan of processes_status_idx; kept 30 s, as it grows with every process ever run.
    const byStatus = sampled(async () => {
      const rows = (await ds.query(`SELECT status, count(*)::int AS n FROM processes GROUP BY status`)) as Array<{ status: string; n: number }>;
      return rows.map((r) => ({ labels: { status: r.status }, value: r.n }));
    }, 30_000);
    metrics.gauge('testigo_processes', 'Processes by status (pending ones are running)', ['status'], byStatus);
  }
}
