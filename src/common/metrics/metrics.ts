import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A gauge's values at a scrape: one number, or one per label set. */
export type GaugeSample<L extends string> = number | Array<{ labels: Partial<Record<L, string>>; value: number }>;

/**
 * How long a gauge that runs a query keeps its value: scrapes (every instance's, every few seconds) never cost more
 * than one query per gauge in this time, whatever their rate.
 */
export const QUERY_GAUGE_TTL_MS = 5000;

/**
 * The operations metrics of this process, in Prometheus' text format at `GET /metrics`: Node.js' own (event-loop lag
 * and its percentiles, heap, GC, handles) and the counters, histograms and gauges that modules create here. One
 * registry per app, so two apps in one process (tests) do not share counts. With PROCESSES > 1, each process answers
 * with its own figures (the gauges read from the database are the same in each).
 */
/**
 * `read`, run at most once per `ttlMs` (QUERY_GAUGE_TTL_MS by default) and shared by the callers meanwhile: the
 * gauges that query the database read through it. Monotonic time, not the injected clock: this caches a reading, it
 * is no deadline of the domain.
 */
export function sampled<T>(read: () => Promise<T>, ttlMs = QUERY_GAUGE_TTL_MS): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (last && performance.now() - last.at < ttlMs) return last.value;
    const value = read();
    const entry = { at: performance.now(), value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = null; // a failed read is not kept
    });
    return value;
  };
}

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

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /**
   * A gauge computed at scrape time by `read` (wrap reads that query the database in `sampled`); a read that fails
   * leaves the gauge without samples, and the scrape still answers: a database that is away must not take /metrics
   * with it.
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<GaugeSample<L>> | GaugeSample<L>): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        let value: GaugeSample<L>;
        try {
          value = await read();
        } catch {
          return;
        }
        if (typeof value === 'number') this.set(value);
        else for (const s of value) this.set(s.labels, s.value);
      },
    });
  }
}
