import { GiveUp } from '../src/common/jobs/job-outcomes.js';
import { Jobs, type JobRun } from '../src/common/jobs/jobs.service.js';
import { createTestApp, type TestApp } from './support/test-app.js';

interface Row {
  status: string;
  attempts: number;
  run_at: Date;
  locked_until: Date | null;
  last_error: string | null;
}

/** Resolves when `done()` holds, polling real time (the workers under test run on their own), or fails after `ms`. */
async function until(done: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('shared job runner (common/jobs)', () => {
  let t: TestApp;
  let jobs: Jobs;
  let n = 0;
  /** A queue name of its own per test (all share the database). */
  const queueName = () => `test.q${++n}`;
  const rows = (queue: string) => t.db.query(`SELECT status, attempts, run_at, locked_until, last_error FROM jobs WHERE queue = $1 ORDER BY id`, [queue]) as Promise<Row[]>;

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    jobs = t.app.get(Jobs);
  });
  afterAll(() => t.close());

  it('a job enqueued in a transaction that rolls back never exists; one that commits runs once', async () => {
    const queue = queueName();
    const ran: string[] = [];
    jobs.register<{ n: string }>(queue, async (p) => void ran.push(p.n));
    await expect(
      t.db.transaction(async (m) => {
        await jobs.enqueue(m, queue, { n: 'rolled back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await t.db.transaction((m) => jobs.enqueue(m, queue, { n: 'committed' }));
    expect(await jobs.runDue(queue)).toBe(1);
    expect(await jobs.runDue(queue)).toBe(0);
    expect(ran).toEqual(['committed']);
    expect(await rows(queue)).toEqual([expect.objectContaining({ status: 'done', attempts: 1, locked_until: null })]);
  });

  it('a failing handler is retried with capped, jittered backoff, then given up after max attempts with onGiveUp', async () => {
    const queue = queueName();
    const attempts: number[] = [];
    const givenUp: Array<{ payload: unknown; error: string; attempts: number }> = [];
    jobs.register<{ id: string }>(
      queue,
      async (_p, run: JobRun) => {
        attempts.push(run.attempt);
        throw new Error(`provider down (${run.attempt})`);
      },
      {
        maxAttempts: 3,
        backoff: { baseMs: 10_000, capMs: 15_000 },
        onGiveUp: async (m, payload, failure) => {
          // Inside the transaction that marks the job failed.
          const [row] = await m.query(`SELECT status FROM jobs WHERE queue = $1`, [queue]);
          expect(row.status).toBe('failed');
          givenUp.push({ payload, ...failure });
        },
      },
    );
    await jobs.enqueue(t.db.manager, queue, { id: 'X1' });

    expect(await jobs.runDue(queue)).toBe(1);
    let [row] = await rows(queue);
    let wait = row.run_at.getTime() - t.clock.now().getTime();
    // Attempt 1: between half and all of the 10 s base.
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'provider down (1)', locked_until: null });
    expect(wait).toBeGreaterThanOrEqual(5000);
    expect(wait).toBeLessThanOrEqual(10_000);
    t.clock.advance(wait - 1);
    expect(await jobs.runDue(queue)).toBe(0); // not due yet

    t.clock.advance(1);
    expect(await jobs.runDue(queue)).toBe(1);
    [row] = await rows(queue);
    wait = row.run_at.getTime() - t.clock.now().getTime();
    // Attempt 2 would wait 20 s: capped at 15 s, jittered down to half of it at least.
    expect(row).toMatchObject({ status: 'pending', attempts: 2, last_error: 'provider down (2)' });
    expect(wait).toBeGreaterThanOrEqual(7500);
    expect(wait).toBeLessThanOrEqual(15_000);
    expect(givenUp).toEqual([]);

    t.clock.advance(15_000);
    expect(await jobs.runDue(queue)).toBe(1);
    expect(await rows(queue)).toEqual([expect.objectContaining({ status: 'failed', attempts: 3, last_error: 'provider down (3)', locked_until: null })]);
    expect(givenUp).toEqual([{ payload: { id: 'X1' }, error: 'provider down (3)', attempts: 3 }]);
    t.clock.advance(3_600_000);
    expect(await jobs.runDue(queue)).toBe(0);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('GiveUp from a handler gives the job up at once', async () => {
    const queue = queueName();
    const givenUp: string[] = [];
    jobs.register(
      queue,
      async () => {
        throw new GiveUp('refused for good');
      },
      { maxAttempts: 5, onGiveUp: async (_m, _p, f) => void givenUp.push(f.error) },
    );
    await jobs.enqueue(t.db.manager, queue, {});
    expect(await jobs.runDue(queue)).toBe(1);
    expect(await rows(queue)).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, last_error: 'refused for good' })]);
    expect(givenUp).toEqual(['refused for good']);
  });

  it('dedupe keys: enqueueing the same key twice (in one transaction or two) keeps one job, which runs once', async () => {
    const queue = queueName();
    const other = queueName();
    const ran: string[] = [];
    jobs.register<{ v: string }>(queue, async (p) => void ran.push(p.v));
    jobs.register<{ v: string }>(other, async (p) => void ran.push(`other ${p.v}`));
    await t.db.transaction(async (m) => {
      await jobs.enqueue(m, queue, { v: 'first' }, { key: 'K1' });
      await jobs.enqueueMany(m, queue, [
        { payload: { v: 'second' }, key: 'K1' },
        { payload: { v: 'other key' }, key: 'K2' },
      ]);
    });
    await t.db.transaction((m) => jobs.enqueue(m, queue, { v: 'third' }, { key: 'K1' }));
    // The same key in another queue is another job.
    await jobs.enqueue(t.db.manager, other, { v: 'K1' }, { key: 'K1' });
    expect(await jobs.runDue(queue)).toBe(2);
    expect(await jobs.runDue(other)).toBe(1);
    // A key stays taken after its job is done: the same work is not done again.
    await jobs.enqueue(t.db.manager, queue, { v: 'fourth' }, { key: 'K1' });
    expect(await jobs.runDue(queue)).toBe(0);
    expect(ran.sort()).toEqual(['first', 'other K1', 'other key']);
  });

  it('a job whose worker died is claimed again once its lease runs out, and the late worker cannot overwrite it', async () => {
    const queue = queueName();
    const second = await createTestApp({ databaseUrl: t.databaseUrl, clock: t.clock, env: { WORKERS_ENABLED: 'false' } });
    try {
      let release!: () => void;
      const hung = new Promise<void>((r) => (release = r));
      const runs: Array<{ instance: string; attempt: number }> = [];
      const options = { leaseMs: 30_000, maxAttempts: 5 };
      jobs.register(
        queue,
        async (_p, run) => {
          runs.push({ instance: 'a', attempt: run.attempt });
          await hung; // a worker that hangs (or died) holding the job
        },
        options,
      );
      second.app.get(Jobs).register(queue, async (_p, run) => void runs.push({ instance: 'b', attempt: run.attempt }), options);
      await jobs.enqueue(t.db.manager, queue, {});

      const first = jobs.runDue(queue);
      await until(async () => runs.length === 1);
      expect((await rows(queue))[0]).toMatchObject({ status: 'running', attempts: 1, locked_until: new Date(t.clock.now().getTime() + 30_000) });
      expect(await second.app.get(Jobs).runDue(queue)).toBe(0); // still leased
      t.clock.advance(30_000);
      expect(await second.app.get(Jobs).runDue(queue)).toBe(1);
      expect(runs).toEqual([
        { instance: 'a', attempt: 1 },
        { instance: 'b', attempt: 2 },
      ]);
      expect((await rows(queue))[0]).toMatchObject({ status: 'done', attempts: 2 });
      // The first worker wakes up and finishes: its claim is stale and changes nothing.
      release();
      await first;
      expect((await rows(queue))[0]).toMatchObject({ status: 'done', attempts: 2 });
    } finally {
      await second.close();
    }
  });

  it('a job claimed more often than its attempts without a result is given up instead of run again', async () => {
    const queue = queueName();
    const givenUp: string[] = [];
    let ran = 0;
    jobs.register(queue, async () => void ran++, { leaseMs: 1000, maxAttempts: 1, onGiveUp: async (_m, _p, f) => void givenUp.push(f.error) });
    await jobs.enqueue(t.db.manager, queue, {});
    // As if a worker claimed it and died.
    await t.db.query(`UPDATE jobs SET status = 'running', attempts = 1, locked_until = $2 WHERE queue = $1`, [queue, t.clock.now()]);
    expect(await jobs.runDue(queue)).toBe(1);
    expect(ran).toBe(0);
    expect(await rows(queue)).toEqual([expect.objectContaining({ status: 'failed', attempts: 2, last_error: 'abandoned after 1 claims without a result' })]);
    expect(givenUp).toEqual(['abandoned after 1 claims without a result']);
  });
});

describe('shared job runner: two instances with workers on one database', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ env: { WORKERS_ENABLED: 'true' } });
    b = await createTestApp({ databaseUrl: a.databaseUrl, clock: a.clock, env: { WORKERS_ENABLED: 'true' } });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('each committed job runs exactly once, on whichever instance claims it; a rolled-back one never', async () => {
    const queue = 'test.shared';
    const ran = new Map<number, string[]>();
    const handler = (instance: string) => async (p: { n: number }) => {
      ran.set(p.n, [...(ran.get(p.n) ?? []), instance]);
      await new Promise((r) => setTimeout(r, 5)); // long enough for the other instance to look for work meanwhile
    };
    a.app.get(Jobs).register(queue, handler('a'), { concurrency: 3 });
    b.app.get(Jobs).register(queue, handler('b'), { concurrency: 3 });
    await expect(
      a.db.transaction(async (m) => {
        await a.app.get(Jobs).enqueue(m, queue, { n: -1 });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow();
    const count = 40;
    await a.db.transaction((m) =>
      a.app.get(Jobs).enqueueMany(
        m,
        queue,
        Array.from({ length: count }, (_, n) => ({ payload: { n } })),
      ),
    );
    await until(async () => (await a.db.query(`SELECT count(*)::int AS n FROM jobs WHERE queue = $1 AND status = 'done'`, [queue]))[0].n === count);
    expect([...ran.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, n) => n));
    expect([...ran.values()].filter((instances) => instances.length !== 1)).toEqual([]);
    const [{ n: total }] = await a.db.query(`SELECT count(*)::int AS n FROM jobs WHERE queue = $1`, [queue]);
    expect(total).toBe(count);
  });

  it('a background queue waits while the event loop is busy, except for jobs later than its bound; it runs once quiet', async () => {
    const queue = 'test.background';
    const ran: string[] = [];
    a.app.get(Jobs).register<{ n: string }>(queue, async (p) => void ran.push(p.n), { background: { maxDelayMs: 60_000 } });
    /** Keeps the event loop running JavaScript ~90 % of the time for `ms`, yielding briefly so timers and I/O go on. */
    const spin = async (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const slice = performance.now() + 45;
        while (performance.now() < slice);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await spin(2500);
    const now = a.clock.now();
    await a.db.transaction((m) => a.app.get(Jobs).enqueueMany(m, queue, [{ payload: { n: 'fresh' } }, { payload: { n: 'late' }, runAt: new Date(now.getTime() - 61_000) }]));
    await spin(2500);
    expect(ran).toEqual(['late']);
    await until(async () => ran.length === 2);
    expect(ran).toEqual(['late', 'fresh']);
  });
});
