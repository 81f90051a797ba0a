import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HookDeliveryMetrics } from './hook-delivery.metrics.js';
import { secretBox } from '../../common/secrets/secret-box.js';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { request, type Dispatcher } from 'undici';
import { queryReturning } from '../../database/sql.js';
import { EvidenceLog } from '../evidence/evidence-log.js';
import { HooksService } from './hooks.service.js';
import { HostResolver, ssrfCheck } from '../../common/http/url-guard.js';
import { API_MAX_BYTES, OutgoingHttp, OutgoingHttpError } from '../../common/http/outgoing-http.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay after the n-th failed try (1-based); the last value repeats. */
export const RETRY_DELAYS_MS = [5 * SECOND, MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR];
/** Retries stop this long after the first try; a hook whose every try failed for as long is disabled. */
export const RETRY_WINDOW_MS = 72 * HOUR;
/** A claimed delivery belongs to its dispatcher this long; after that (a crash) it is due again. */
export const LEASE_MS = 60 * SECOND;
export const TIMEOUT_MS = 10 * SECOND;
export const MAX_IN_FLIGHT = 64;
/** A slow endpoint holds at most this many of the slots, so other hooks keep flowing. */
export const PER_HOOK_IN_FLIGHT = 16;
/** Claim again once this many slots are free (one claim per finished send would make claims the bottleneck). */
const REFILL_BATCH = 16;
/** Most results stored by one statement. */
const RECORD_BATCH = 200;
const EXCERPT_CHARS = 500;
const TICK_MS = 1000;

/** The delay before the next try after `failures` failed tries, with ±10% jitter so retries of many hooks spread. */
export function retryDelay(failures: number, random = Math.random()): number {
  const base = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1];
  return Math.round(base * (0.9 + 0.2 * random));
}

export interface ClaimedDelivery {
  id: string;
  tenant_id: string;
  hook_id: string;
  event_id: string;
  event_type: string;
  attempt_count: number;
  first_attempt_at: Date | null;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  data: object;
  event_created_at: Date;
  lease_token: string;
}

interface Result {
  row: ClaimedDelivery;
  attemptedAt: Date;
  outcome: Outcome;
  status: 'succeeded' | 'pending' | 'failed';
  next: Date | null;
}

interface Outcome {
  ok: boolean;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
}

/**
 * Sends pending hook deliveries. Rows are claimed with FOR UPDATE SKIP LOCKED and leased (status `sending`,
 * `next_attempt_at` = lease end) in one short statement, so several instances share the work and a crash after the
 * claim only delays those rows until the lease ends. Sends run with bounded concurrency, a per-hook cap, and each
 * delivery's result is written as soon as it is known: a slow endpoint never holds back other hooks.
 */
@Injectable()
export class HookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(HookDispatcher.name);
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly perHook = new Map<string, number>();
  private filling: Promise<number> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private backlog = false;
  private lastClaimSkippedHooks = false;
  private readonly results: Array<{ result: Result; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing = false;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly resolver: HostResolver,
    private readonly hooks: HooksService,
    private readonly http: OutgoingHttp,
    private readonly evidence: EvidenceLog,
    private readonly metrics: HookDeliveryMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.WORKERS_ENABLED) return;
    this.timer = setInterval(() => void this.fill(), TICK_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.filling?.catch(() => undefined);
    await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * Sends everything due now and waits for the results; returns how many sends it started. Tests call it after
   * moving the clock; production runs the same claim loop on a timer.
   */
  async dispatchDue(): Promise<number> {
    let started = 0;
    for (;;) {
      const n = await this.fill();
      started += n;
      if (this.inflight.size === 0) {
        // A claim that skipped saturated hooks proves nothing if their sends finished meanwhile: claim again.
        if (n === 0 && !this.lastClaimSkippedHooks) return started;
        continue;
      }
      // Nothing claimable now: wait for a send to finish. Otherwise claim again once a batch of slots is free, so a
      // claim takes many rows instead of one per finished send.
      if (n === 0) await Promise.race(this.inflight.values());
      while (this.inflight.size > MAX_IN_FLIGHT - REFILL_BATCH) await Promise.race(this.inflight.values());
    }
  }

  /**
   * Claims up to `limit` due deliveries (leasing them) without sending. Public for tests that simulate a crash
   * between the claim and the send.
   */
  async claim(limit: number, excludeHooks: string[] = []): Promise<ClaimedDelivery[]> {
    const now = this.clock.now();
    const token = randomUUID();
    return this.ds.query(
      `WITH due AS (
         SELECT d.id FROM hook_deliveries d JOIN hooks h ON h.id = d.hook_id
          WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= $1 AND h.active
            AND NOT (d.hook_id = ANY($3::text[]))
          ORDER BY d.next_attempt_at, d.id
          LIMIT $2
          FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE hook_deliveries d SET status = 'sending', next_attempt_at = $4, lease_token = $5
           FROM due, hooks h, hook_events e
          WHERE d.id = due.id AND h.id = d.hook_id AND e.id = d.event_id
         RETURNING d.id, d.tenant_id, d.hook_id, d.event_id, d.event_type, d.attempt_count, d.first_attempt_at, d.lease_token,
                   h.url, h.secret, h.previous_secret, h.previous_secret_expires_at, e.data, e.created_at AS event_created_at
       )
       SELECT * FROM claimed`,
      [now, limit, excludeHooks, new Date(now.getTime() + LEASE_MS), token],
    );
  }

  /** One claim round at a time per instance; returns how many sends it started. */
  private fill(): Promise<number> {
    if (this.filling) return this.filling;
    this.filling = this.claimAndStart()
      .catch((err: unknown) => {
        if (!this.stopping) this.logger.error({ err }, 'hook dispatch failed');
        return 0;
      })
      .finally(() => {
        this.filling = null;
      });
    return this.filling;
  }

  private async claimAndStart(): Promise<number> {
    const free = MAX_IN_FLIGHT - this.inflight.size;
    this.lastClaimSkippedHooks = false;
    if (free <= 0 || this.stopping) return 0;
    const saturated = [...this.perHook].filter(([, n]) => n >= PER_HOOK_IN_FLIGHT).map(([id]) => id);
    this.lastClaimSkippedHooks = saturated.length > 0;
    const rows = await this.claim(free, saturated);
    this.backlog = rows.length === free;
    const release: string[] = [];
    for (const row of rows) {
      const n = this.perHook.get(row.hook_id) ?? 0;
      if (n >= PER_HOOK_IN_FLIGHT) {
        release.push(row.id);
        continue;
      }
      this.perHook.set(row.hook_id, n + 1);
      const done = this.deliver(row)
        .catch((err: unknown) => {
          // The lease runs out and the delivery is tried again: nothing is lost.
          if (!this.stopping) this.logger.error({ err, deliveryId: row.id }, 'recording a hook delivery failed');
        })
        .finally(() => {
          this.inflight.delete(row.id);
          const left = (this.perHook.get(row.hook_id) ?? 1) - 1;
          if (left > 0) this.perHook.set(row.hook_id, left);
          else this.perHook.delete(row.hook_id);
          if (this.timer && this.backlog && !this.stopping && this.inflight.size <= MAX_IN_FLIGHT - REFILL_BATCH) void this.fill();
        });
      this.inflight.set(row.id, done);
    }
    if (release.length > 0) {
      // Over the per-hook cap: hand them back, due at once, for when that hook has a free slot.
      await this.ds.query(`UPDATE hook_deliveries SET status = 'pending', next_attempt_at = $2, lease_token = NULL WHERE id = ANY($1) AND lease_token = $3`, [
        release,
        this.clock.now(),
        rows[0].lease_token,
      ]);
    }
    return rows.length - release.length;
  }

  private async deliver(row: ClaimedDelivery): Promise<void> {
    const attemptedAt = this.clock.now();
    const outcome = await this.send(row, attemptedAt);
    let status: Result['status'] = 'succeeded';
    let next: Date | null = null;
    if (!outcome.ok) {
      const deadline = (row.first_attempt_at ?? attemptedAt).getTime() + RETRY_WINDOW_MS;
      const exhausted = attemptedAt.getTime() >= deadline;
      status = exhausted ? 'failed' : 'pending';
      // The last try lands on the deadline itself rather than past it.
      next = exhausted ? null : new Date(Math.min(attemptedAt.getTime() + retryDelay(row.attempt_count + 1), deadline));
      // Bounded: an HTTP status class, or how the request failed before any answer.
      this.metrics.failures.inc({ reason: exhausted ? 'given_up' : outcome.httpStatus ? `http_${Math.floor(outcome.httpStatus / 100)}xx` : 'no_answer' });
    }
    await this.record({ row, attemptedAt, outcome, status, next });
  }

  /**
   * Results are written in batches, one write at a time (group commit): while one batch is being written the next
   * one gathers, so a busy dispatcher makes few round trips. A send's slot frees once its result is stored.
   */
  private record(result: Result): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.results.push({ result, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.results.length === 0) return;
    const batch = this.results.splice(0, RECORD_BATCH);
    this.writing = true;
    this.writeResults(batch.map((b) => b.result))
      .then(
        () => batch.forEach((b) => b.resolve()),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        this.writing = false;
        this.flush();
      });
  }

  private async writeResults(results: Result[]): Promise<void> {
    await this.ds.transaction(async (m) => {
      await this.writeAttempts(m, results);
      // A delivery that ends (delivered, or given up) is evidence of the process it was about, if any.
      await this.evidence.defer(
        m,
        results
          .filter((r) => r.status !== 'pending' && typeof (r.row.data as { process_id?: unknown }).process_id === 'string')
          .map((r) => ({
            tenantId: r.row.tenant_id,
            processId: (r.row.data as { process_id: string }).process_id,
            type: r.status === 'succeeded' ? 'hook.delivered' : 'hook.failed',
            occurredAt: r.attemptedAt,
            payload: { hook_id: r.row.hook_id, webhook_id: r.row.event_id, event_type: r.row.event_type, attempts: r.row.attempt_count + 1, http_status: r.outcome.httpStatus },
          })),
      );
    });
    await this.disableFailing(results);
  }

  private async writeAttempts(m: EntityManager, results: Result[]): Promise<void> {
    await m.query(
      `WITH r AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::timestamptz[])
           AS r(id, token, status, attempted_at, http_status, latency_ms, error, excerpt, next_at)
       ), d AS (
         UPDATE hook_deliveries d
            SET status = r.status, attempt_count = d.attempt_count + 1, next_attempt_at = r.next_at, lease_token = NULL,
                first_attempt_at = COALESCE(d.first_attempt_at, r.attempted_at), last_attempt_at = r.attempted_at,
                delivered_at = CASE WHEN r.status = 'succeeded' THEN r.attempted_at ELSE d.delivered_at END, last_error = r.error
           FROM r
          WHERE d.id = r.id AND d.lease_token = r.token
         RETURNING d.id, d.hook_id, r.status, r.attempted_at
       ), a AS (
         INSERT INTO hook_delivery_attempts (delivery_id, attempted_at, http_status, latency_ms, error, response_excerpt)
         SELECT r.id, r.attempted_at, r.http_status, r.latency_ms, r.error, r.excerpt FROM r JOIN d ON d.id = r.id
       ), per_hook AS (
         SELECT hook_id, bool_or(status = 'succeeded') AS any_ok, min(attempted_at) FILTER (WHERE status <> 'succeeded') AS first_fail
           FROM d GROUP BY hook_id
       )
       -- failing_since: cleared by a success, set by the first failure after one.
       UPDATE hooks h SET failing_since = CASE WHEN p.any_ok THEN NULL ELSE COALESCE(h.failing_since, p.first_fail) END
         FROM per_hook p
        WHERE h.id = p.hook_id AND h.failing_since IS DISTINCT FROM (CASE WHEN p.any_ok THEN NULL ELSE COALESCE(h.failing_since, p.first_fail) END)`,
      [
        results.map((x) => x.row.id),
        results.map((x) => x.row.lease_token),
        results.map((x) => x.status),
        results.map((x) => x.attemptedAt),
        results.map((x) => x.outcome.httpStatus),
        results.map((x) => x.outcome.latencyMs),
        results.map((x) => x.outcome.error),
        results.map((x) => x.outcome.excerpt),
        results.map((x) => x.next),
      ],
    );
  }

  /** Hooks whose deliveries all failed for the whole retry window are switched off. */
  private async disableFailing(results: Result[]): Promise<void> {
    let disabled = 0;
    for (const x of results.filter((r) => r.status === 'failed')) {
      const rows = await queryReturning(
        this.ds,
        `UPDATE hooks SET active = false, disabled_at = $2, updated_at = now(),
                disabled_reason = 'Every delivery failed for 3 days (last error: ' || $3 || '). Fix the endpoint and set active=true.'
          WHERE id = $1 AND active AND failing_since <= $4
          RETURNING id`,
        [x.row.hook_id, x.attemptedAt, x.outcome.error ?? 'unknown', new Date(x.attemptedAt.getTime() - RETRY_WINDOW_MS)],
      );
      disabled += rows.length;
    }
    // A hook just disabled gets no new events.
    if (disabled > 0) this.hooks.subscriptionsChanged();
  }

  private async send(row: ClaimedDelivery, attemptedAt: Date): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const blocked = await ssrfCheck(row.url, this.config.allowLocalUrls, this.resolver);
    if (blocked) return { ok: false, httpStatus: null, latencyMs: elapsed(), error: blocked, excerpt: null };

    const body = JSON.stringify({
      id: row.event_id,
      type: row.event_type,
      created_at: new Date(row.event_created_at).toISOString(),
      data: row.data,
    });
    // The claim reads the columns raw (no entity transformer): they are opened here, one AES-GCM open each.
    const secrets = [secretBox().open(row.secret)];
    if (row.previous_secret && row.previous_secret_expires_at && new Date(row.previous_secret_expires_at) > attemptedAt) {
      secrets.push(secretBox().open(row.previous_secret));
    }
    // The receiver checks webhook-timestamp against its own wall clock (replay protection), so it is wall time.
    const signedAt = new Date();
    const signature = secrets.map((s) => new Webhook(s).sign(row.event_id, signedAt, body)).join(' ');
    try {
      // undici's `request` follows no redirects: a 3xx is the receiver's answer, not a place to go. The guarded agent
      // connects only to addresses it resolved and checked itself, so a DNS answer changed since the check is not used.
      const res = await request(row.url, {
        dispatcher: this.http.guarded,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Testigo-Hooks/1.0',
          'webhook-id': row.event_id,
          'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      // The status decides; a body that is slow or broken only costs its excerpt.
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const latencyMs = elapsed();
      const excerpt = await readExcerpt(res.body).catch(() => null);
      return { ok, httpStatus: res.statusCode, latencyMs, error: ok ? null : `HTTP_${res.statusCode}`, excerpt };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      const refused = [err, e.cause].find((x) => x instanceof OutgoingHttpError);
      const error = refused
        ? `SSRF_BLOCKED: ${(refused as Error).message}`
        : e.name === 'TimeoutError'
          ? 'TIMEOUT'
          : `CONNECTION_FAILED: ${e.code ?? e.cause?.code ?? e.cause?.message ?? e.message}`;
      return { ok: false, httpStatus: null, latencyMs: elapsed(), error, excerpt: null };
    }
  }
}

/** The first characters of a response body, reading no more of it than needed (and never more than 1 MB). */
async function readExcerpt(body: Dispatcher.ResponseData['body']): Promise<string | null> {
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += (chunk as Buffer).length;
      text += decoder.decode(chunk as Buffer, { stream: true });
      if (text.length >= EXCERPT_CHARS || bytes >= API_MAX_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  return text.length > 0 ? text.slice(0, EXCERPT_CHARS) : null;
}
