import { Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { Metrics, sampled } from '../../common/metrics/metrics.js';

/** The send queue seen from outside: what waits per line, what went out, and what the providers refused. */
@Injectable()
export class SendQueueMetrics {
  readonly sends: Counter<'line_id'>;
  readonly providerErrors: Counter<'code'>;

  constructor(ds: DataSource, metrics: Metrics) {
    this.sends = metrics.counter('testigo_sends_total', 'Messages handed to the provider and accepted, by line (rate() gives sends/s)', ['line_id']);
    this.providerErrors = metrics.counter('testigo_provider_errors_total', 'Sends the provider refused or failed, by normalised code (retried or not)', ['code']);
    // On the partial index of queued messages per line.
    const depth = sampled(async () => {
      const rows = (await ds.query(`SELECT line_id, count(*)::int AS n FROM messages WHERE status = 'queued' GROUP BY line_id`)) as Array<{ line_id: string; n: number }>;
      return rows.map((r) => ({ labels: { line_id: r.line_id }, value: r.n }));
    });
    metrics.gauge('testigo_send_queue_depth', 'Messages queued to send (due or waiting for a retry), per line', ['line_id'], depth);
  }
}
