import { HookDispatcher } from '../../src/modules/hooks/hook-dispatcher.js';
import { HooksService } from '../../src/modules/hooks/hooks.service.js';
import { runMigrations } from '../../src/database/data-source.js';
import { HookReceiver } from '../fakes/hook-receiver.js';
import { FakeClock } from '../support/fake-clock.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { report } from './harness.js';

const HOUR = 3_600_000;
const EVENTS = 60;

/**
 * A client's hook endpoint down for three days. Time is the injected clock, so this case runs the app in Jest's
 * process (the built service reads the system clock) on a PostgreSQL of its own; the endpoint is a real HTTP server
 * on 127.0.0.1, stopped (connections refused) and started again.
 */
describe('Faults: hook endpoint down for three days (in-process app, injected clock, real HTTP)', () => {
  let pg: OwnPostgres;
  let t: TestApp;
  const receiver = new HookReceiver();

  beforeAll(async () => {
    pg = await startOwnPostgres();
    await runMigrations(pg.url);
    t = await createTestApp({ databaseUrl: pg.url, clock: new FakeClock(), env: { WORKERS_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await receiver.stop();
    await t?.close();
    await pg?.destroy();
  });

  it('deliveries resume when it is back, each webhook-id arrives once, and the delivery log shows every attempt', async () => {
    const { apiKey, tenantId } = await t.newTenant('Hook outage');
    await receiver.start();
    const hook = (
      await t.http
        .post('/v1/hooks')
        .set('X-API-Key', apiKey)
        .send({ url: receiver.url, events: ['process.succeeded'] })
        .expect(201)
    ).body as { id: string };
    await receiver.stop();
    const dispatcher = t.app.get(HookDispatcher);
    const emit = (i: number) => t.db.transaction((m) => t.app.get(HooksService).emit(m, { tenantId, type: 'process.succeeded', data: { process_id: `PRC${i}` } }));
    const start = t.clock.now().getTime();
    const backAt = start + 72 * HOUR - 60_000; // a minute before the first deliveries' 3-day window closes
    // Two thirds of the events at the start of the outage, the rest during it (a day and two days in).
    const emitAt = (i: number) => start + (i < (2 * EVENTS) / 3 ? 0 : i % 2 ? 24 * HOUR : 48 * HOUR);
    let emitted = 0;
    let rounds = 0;
    let back = false;
    for (;;) {
      const now = t.clock.now().getTime();
      while (emitted < EVENTS && emitAt(emitted) <= now) await emit(emitted++);
      if (!back && now >= backAt) {
        await receiver.start();
        back = true;
      }
      await dispatcher.dispatchDue();
      rounds++;
      const [row] = await t.db.query(`SELECT min(next_attempt_at) AS next FROM hook_deliveries WHERE status IN ('pending', 'sending')`);
      const upcoming = [row.next ? new Date(row.next).getTime() : Infinity, emitted < EVENTS ? emitAt(emitted) : Infinity, back ? Infinity : backAt];
      const next = Math.min(...upcoming);
      if (next === Infinity) break;
      t.clock.set(new Date(Math.max(next, now)));
      if (rounds > 5000) throw new Error('the deliveries never settled');
    }

    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    const deliveries = await t.db.query(`SELECT status, attempt_count FROM hook_deliveries WHERE hook_id = $1`, [hook.id]);
    const attempts = deliveries.map((d: { attempt_count: number }) => d.attempt_count);
    const log = await t.http.get(`/v1/hooks/${hook.id}/deliveries?limit=100`).set('X-API-Key', apiKey).expect(200);
    const first = log.body.data.find((d: { attempts: unknown[] }) => d.attempts.length === Math.max(...attempts));
    report('hook endpoint down for three days', {
      events: EVENTS,
      downHours: +((backAt - start) / HOUR).toFixed(2),
      rounds,
      arrivals: ids.length,
      distinctWebhookIds: new Set(ids).size,
      attemptsPerDelivery: { min: Math.min(...attempts), max: Math.max(...attempts) },
      settledAfterHours: +((t.clock.now().getTime() - start) / HOUR).toFixed(2),
    });
    expect(deliveries).toHaveLength(EVENTS);
    expect(deliveries.every((d: { status: string }) => d.status === 'succeeded')).toBe(true);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(receiver.requests.every((r) => r.at >= 0)).toBe(true);
    // The log: every try while it was down failed to connect, the last one was answered 200.
    expect(first.status).toBe('succeeded');
    expect(first.attempts.length).toBeGreaterThanOrEqual(10);
    const tries = [...first.attempts].sort((a: { at: string }, b: { at: string }) => a.at.localeCompare(b.at));
    expect(tries.slice(0, -1).every((a: { error: string | null }) => /^CONNECTION_FAILED/.test(a.error ?? ''))).toBe(true);
    expect(tries[tries.length - 1]).toMatchObject({ http_status: 200, error: null });
    expect(new Date(tries[tries.length - 1].at).getTime()).toBeGreaterThanOrEqual(backAt);
    // The hook stays enabled: it came back inside its 3-day window.
    const got = await t.http.get(`/v1/hooks/${hook.id}`).set('X-API-Key', apiKey).expect(200);
    expect(got.body.active).toBe(true);
  });
});
