import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { Metrics } from '../../common/metrics/metrics.js';

/** This process's database connections (pg's pool: no query, read from memory). */
@Injectable()
export class DatabasePoolMetrics {
  constructor(ds: DataSource, metrics: Metrics) {
    const pool = () => (ds.driver as unknown as { master?: Pool }).master;
    metrics.gauge('testigo_db_pool_in_use', 'Database connections of this process running a query or a transaction', [], () => {
      const p = pool();
      return p ? p.totalCount - p.idleCount : 0;
    });
    metrics.gauge('testigo_db_pool_waiting', 'Queries of this process waiting for a free database connection', [], () => pool()?.waitingCount ?? 0);
    metrics.gauge('testigo_db_pool_size', 'Database connections this process has open', [], () => pool()?.totalCount ?? 0);
  }
}
