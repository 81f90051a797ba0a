import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * The operations metrics of this process, in Prometheus' text format at `GET /metrics`: Node.js' own (event-loop lag
 * and its percentiles, heap, GC, handles) and counters that modules create here. One registry per app, so two apps
 * in one process (tests) do not share counts. With PROCESSES > 1, each process answers with its own figures.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    // The event-loop lag gauges (nodejs_eventloop_lag_p99_seconds…) read a 10 ms-resolution histogram.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
