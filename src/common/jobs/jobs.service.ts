import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { DataSource, EntityManager } from 'typeorm';
import { queryReturning } from '../../database/sql.js';
import { WriteBehind, type BatchStatement } from '../../database/write-behind.js';
import { Clock } from '../clock/clock.js';
import type { CronRun } from '../workers/cron-run.js';
import type { WorkerLoop } from '../workers/worker-loop.js';
import { Workers } from '../workers/workers.js';
import { backoffMs, GiveUp, RetryLater } from './job-outcomes.js';

/** What a handler is told about the run it is asked for. */
export interface JobRun {
  jobId: string;
  /** 1 on the first run; a run put off with RetryLater does not count. */
  attempt: number;
  maxAttempts: number;
}

/** Runs a job; resolving is done, throwing is retried (see RetryLater and GiveUp for the other outcomes). */
export type JobHandler<P> = (payload: P, run: JobRun) => Promise<void>;

export interface QueueOptions<P> {
  /** Jobs of this queue run at once per instance (default 4). */
  concurrency?: number;
  /** For jobs enqueued without their own (default 8). */
  maxAttempts?: number;
  /** Delay before attempt n+1: base·2^(n-1), jittered, at most cap (default 1 s … 1 h). */
  backoff?: { baseMs: number; capMs: number };
  /** How long a claimed job is its worker's; a worker that dies leaves it to be claimed again after this (default 5 min). */
  leaseMs?: number;
  /**
   * Called once when the job is given up (attempts exhausted, GiveUp thrown, or claimed too often without a result),
   * in the transaction that marks it failed: the owning module marks its own row failed.
   */
  onGiveUp?: (manager: EntityManager, payload: P, failure: { error: string; attempts: number }) => Promise<void>;
  /**
   * Work that may wait for quiet (a certificate of evidence): while this instance's event loop is busy, its jobs are
   * claimed only once they are this late (ms past their run_at), so they never compete with answering people except
   * when the backlog grows that old.
   */
  background?: { maxDelayMs: number };
}

export interface EnqueueOptions {
  /** Not before (default now). */
  runAt?: Date;
  maxAttempts?: number;
  /** Unique per queue: enqueueing a job with a key already there does nothing (the first stays, whatever its status). */
  key?: string;
}

interface Queue {
  name: string;
  handler: JobHandler<unknown>;
  concurrency: number;
  maxAttempts: number;
  backoff: { baseMs: number; capMs: number };
  leaseMs: number;
  onGiveUp?: QueueOptions<unknown>['onGiveUp'];
  background?: { maxDelayMs: number };
  running: number;
}

interface ClaimedJob {
  id: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

interface NewJob {
  queue: string;
  payload: string;
  maxAttempts: number;
  runAt: Date;
  key: string | null;
  createdAt: Date;
}

/** One statement for any number of jobs (with write-behind: one per transaction, however many were enqueued). */
const INSERT_JOBS: BatchStatement<NewJob> = {
  sql: `INSERT INTO jobs (queue, payload, max_attempts, run_at, key, created_at)
        SELECT * FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::timestamptz[], $5::text[], $6::timestamptz[])
        ON CONFLICT (queue, key) DO NOTHING`,
  params: (rows) => [
    rows.map((r) => r.queue),
    rows.map((r) => r.payload),
    rows.map((r) => r.maxAttempts),
    rows.map((r) => r.runAt),
    rows.map((r) => r.key),
    rows.map((r) => r.createdAt),
  ],
};

const DEFAULTS = { concurrency: 4, maxAttempts: 8, backoff: { baseMs: 1000, capMs: 3_600_000 }, leaseMs: 5 * 60_000 };
/** The runner polls this often when nothing woke it (jobs enqueued by another instance, jobs whose time came). */
const POLL_MS = 1000;
/** Above this share of time spent running JavaScript, the instance counts as busy (background queues wait). */
const BUSY_UTILIZATION = 0.5;
/** The event loop's utilization is measured over windows of this length. */
const BUSY_WINDOW_MS = 1000;
/** Finished jobs are kept this long (to look into; a key stays taken as long as its job is kept). */
const KEEP_DONE_MS = 7 * 24 * 3_600_000;

/**
 * The shared job runner for background work that is not a hot path (media downloads, template submissions and
 * polls, and the provider calls of signing, SMS and time-stamping): a `jobs` table written in the caller's
 * transaction (a job exists iff the change that caused it committed), claimed with FOR UPDATE SKIP LOCKED under a
 * lease (any number of instances share the work; a dead worker's job is claimed again after its lease), retried with
 * capped, jittered exponential backoff, given up after its attempts with the queue's `onGiveUp`. Every deadline reads
 * the injected Clock. Runs in one worker loop of the Workers registry: only with WORKERS_ENABLED, stopped (and its
 * running jobs awaited) before the database closes.
 */
@Injectable()
export class Jobs implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly queues = new Map<string, Queue>();
  private readonly running = new Set<Promise<void>>();
  private readonly worker: WorkerLoop;
  private readonly purgeRuns: CronRun;
  private load = { at: performance.now(), elu: performance.eventLoopUtilization(), busy: false };

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    workers: Workers,
  ) {
    this.worker = workers.loop('Jobs', () => this.work(), POLL_MS);
    this.purgeRuns = workers.cron('JobsPurge', () => this.purgeFinished());
    // Jobs enqueued in a transaction are announced once it commits (never for one rolled back); a savepoint's end
    // is not the transaction's.
    ds.subscribers.push({
      afterTransactionCommit: ({ queryRunner }) => {
        if (queryRunner.isTransactionActive || !queryRunner.data?.jobsEnqueued) return;
        queryRunner.data.jobsEnqueued = false;
        this.wake();
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive && queryRunner.data) queryRunner.data.jobsEnqueued = false;
      },
    });
  }

  /** Registers the handler of a queue (once, by the module that owns it). Only registered queues are claimed here. */
  register<P>(queue: string, handler: JobHandler<P>, options: QueueOptions<P> = {}): void {
    if (this.queues.has(queue)) throw new Error(`job queue ${queue} is already registered`);
    this.queues.set(queue, {
      name: queue,
      handler: handler as JobHandler<unknown>,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
      backoff: options.backoff ?? DEFAULTS.backoff,
      leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
      onGiveUp: options.onGiveUp as QueueOptions<unknown>['onGiveUp'],
      background: options.background,
      running: 0,
    });
  }

  /** Enqueues a job in the caller's transaction: it exists only if that transaction commits. */
  enqueue<P>(manager: EntityManager, queue: string, payload: P, options: EnqueueOptions = {}): Promise<void> {
    return this.enqueueMany(manager, queue, [{ payload, ...options }]);
  }

  /**
   * Enqueues jobs with one INSERT in the caller's transaction; with write-behind, one INSERT for every job the
   * transaction enqueues, sent with its next statement.
   */
  async enqueueMany<P>(manager: EntityManager, queue: string, jobs: Array<{ payload: P } & EnqueueOptions>): Promise<void> {
    if (jobs.length === 0) return;
    const now = this.clock.now();
    const rows = jobs.map((j): NewJob => ({
      queue,
      payload: JSON.stringify(j.payload),
      maxAttempts: j.maxAttempts ?? this.queues.get(queue)?.maxAttempts ?? DEFAULTS.maxAttempts,
      runAt: j.runAt ?? now,
      key: j.key ?? null,
      createdAt: now,
    }));
    const runner = manager.queryRunner;
    if (WriteBehind.of(manager)) for (const row of rows) await WriteBehind.batch(manager, INSERT_JOBS, row);
    else await manager.query(INSERT_JOBS.sql, INSERT_JOBS.params(rows));
    if (runner?.isTransactionActive) runner.data = Object.assign(runner.data ?? {}, { jobsEnqueued: true });
    else this.wake();
  }

  /** Cuts the runner's idle wait short. */
  wake(): void {
    this.worker.wake();
  }

  /** Runs the due jobs of one queue once (up to `limit`) and waits for them; returns how many were claimed (tests, tools). */
  async runDue(queue: string, limit?: number): Promise<number> {
    const q = this.queue(queue);
    const claimed = await this.claim(q, limit ?? q.concurrency);
    await Promise.all(claimed.map((job) => this.execute(q, job)));
    return claimed.length;
  }

  /**
   * Runs the job with this key now, before its run_at, unless it is finished or another worker holds it; returns
   * whether it ran. For work tried at once after a commit, with the job as the retry if that try fails or the process
   * dies before it.
   */
  async runNow(queue: string, key: string): Promise<boolean> {
    const q = this.queue(queue);
    const now = this.clock.now();
    const [job] = await queryReturning<ClaimedJob>(
      this.ds,
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $4
        WHERE queue = $1 AND key = $2 AND (status = 'pending' OR (status = 'running' AND locked_until <= $3))
       RETURNING id, payload, attempts, max_attempts`,
      [queue, key, now, new Date(now.getTime() + q.leaseMs)],
    );
    if (!job) return false;
    await this.execute(q, job);
    return true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
    await Promise.all(this.running);
  }

  @Interval(3_600_000)
  purge(): Promise<void> {
    return this.purgeRuns.run();
  }

  /** Deletes done jobs kept long enough; failed ones stay (they explain a row marked failed). */
  async purgeFinished(): Promise<number> {
    const rows = await queryReturning<{ id: string }>(
      this.ds,
      `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'done' AND finished_at < $1 LIMIT 10000) RETURNING id`,
      [new Date(this.clock.now().getTime() - KEEP_DONE_MS)],
    );
    return rows.length;
  }

  /** One round of the worker loop: claims what each queue has room for and starts it; returns how many were claimed. */
  private async work(): Promise<number> {
    let claimed = 0;
    const busy = this.busy();
    for (const q of this.queues.values()) {
      const room = q.concurrency - q.running;
      if (room <= 0) continue;
      const jobs = await this.claim(q, room, busy && q.background ? q.background.maxDelayMs : 0);
      claimed += jobs.length;
      for (const job of jobs) {
        const run = this.execute(q, job).finally(() => {
          this.running.delete(run);
          // A slot is free: look for more at once rather than at the next poll.
          this.wake();
        });
        this.running.add(run);
      }
    }
    return claimed;
  }

  /** Whether the event loop ran JavaScript more than half of the last measured second (real time, not the Clock). */
  private busy(): boolean {
    const at = performance.now();
    if (at - this.load.at >= BUSY_WINDOW_MS) {
      const elu = performance.eventLoopUtilization();
      this.load = { at, elu, busy: performance.eventLoopUtilization(elu, this.load.elu).utilization > BUSY_UTILIZATION };
    }
    return this.load.busy;
  }

  /**
   * Due pending jobs (due `lateMs` ago or earlier) and jobs whose lease ran out (their worker died), oldest first, each
   * for one worker.
   */
  private async claim(q: Queue, limit: number, lateMs = 0): Promise<ClaimedJob[]> {
    const now = this.clock.now();
    return queryReturning<ClaimedJob>(
      this.ds,
      `UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, locked_until = $3
         FROM (SELECT id FROM jobs
                WHERE queue = $1 AND ((status = 'pending' AND run_at <= $5) OR (status = 'running' AND locked_until <= $2))
                ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) due
        WHERE j.id = due.id
       RETURNING j.id, j.payload, j.attempts, j.max_attempts`,
      [q.name, now, new Date(now.getTime() + q.leaseMs), limit, new Date(now.getTime() - lateMs)],
    );
  }

  private async execute(q: Queue, job: ClaimedJob): Promise<void> {
    q.running++;
    try {
      // Claimed again and again without a result (its worker died or hung on it each time): given up, not run again.
      if (job.attempts > job.max_attempts) {
        await this.giveUp(q, job, `abandoned after ${job.attempts - 1} claims without a result`);
        return;
      }
      try {
        await q.handler(job.payload, { jobId: job.id, attempt: job.attempts, maxAttempts: job.max_attempts });
      } catch (err) {
        await this.failed(q, job, err);
        return;
      }
      await this.settle(job, `status = 'done', finished_at = $3, last_error = NULL`, [this.clock.now()]);
    } catch (err) {
      // The job's own bookkeeping failed (the database went away): its lease brings it back.
      this.logger.error({ err, jobId: job.id, queue: q.name }, 'job bookkeeping failed');
    } finally {
      q.running--;
    }
  }

  private async failed(q: Queue, job: ClaimedJob, err: unknown): Promise<void> {
    const error = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    const now = this.clock.now().getTime();
    if (err instanceof RetryLater) {
      await this.settle(job, `status = 'pending', attempts = attempts - 1, run_at = $3, last_error = $4`, [new Date(now + err.delayMs), error]);
      return;
    }
    if (err instanceof GiveUp || job.attempts >= job.max_attempts) {
      await this.giveUp(q, job, error);
      return;
    }
    this.logger.warn({ jobId: job.id, queue: q.name, attempt: job.attempts, err: error }, 'job failed; retried later');
    await this.settle(job, `status = 'pending', run_at = $3, last_error = $4`, [new Date(now + backoffMs(job.attempts, q.backoff)), error]);
  }

  /** Marks the job failed and lets its module react, in one transaction (if `onGiveUp` throws, the lease brings it back). */
  private async giveUp(q: Queue, job: ClaimedJob, error: string): Promise<void> {
    this.logger.warn({ jobId: job.id, queue: q.name, attempts: job.attempts, err: error }, 'job given up');
    await this.ds.transaction(async (m) => {
      const marked = await this.settle(job, `status = 'failed', finished_at = $3, last_error = $4`, [this.clock.now(), error], m);
      if (marked && q.onGiveUp) await q.onGiveUp(m, job.payload, { error, attempts: Math.min(job.attempts, job.max_attempts) });
    });
  }

  /**
   * Ends this claim of the job. Fenced by the attempt number: a worker whose lease ran out and whose job was claimed
   * again does not overwrite the newer claim. Returns whether the claim was still this worker's.
   */
  private async settle(job: ClaimedJob, set: string, params: unknown[], db: DataSource | EntityManager = this.ds): Promise<boolean> {
    const rows = await queryReturning<{ id: string }>(db, `UPDATE jobs SET ${set}, locked_until = NULL WHERE id = $1 AND attempts = $2 AND status = 'running' RETURNING id`, [
      job.id,
      job.attempts,
      ...params,
    ]);
    return rows.length > 0;
  }

  private queue(name: string): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`job queue ${name} is not registered`);
    return q;
  }
}
