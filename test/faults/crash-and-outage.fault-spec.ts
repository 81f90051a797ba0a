import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeGraph } from '../fakes/fake-graph.js';
import { spawnBuiltService, type ServiceProcess } from '../support/built-service.js';
import { freePort } from '../support/free-port.js';
import { startOwnPostgres } from '../support/own-postgres.js';
import { ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/test-app.js';
import { CALLS_PER_USER, evidenceOutcome, LINE, provision, report, runLoad, settle, USERS } from './harness.js';

const TOTAL = USERS * CALLS_PER_USER;
/** The line's pace: below the load's rate, so the send queue has a backlog when the fault strikes. */
const THROUGHPUT = 200;

const fakeGraph = () => FakeGraph.start({ mode: 'cloud_api', accessToken: LINE.accessToken });
const graphEnv = (fake: FakeGraph) => ({ GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0', ALLOW_LOCAL_URLS: 'true', ADMIN_TOKEN });

describe('Faults: crash and database outage under load (built service)', () => {
  it('kill -9 under load: npm start on the same data dir resumes; every call answered 200 is applied once, every prompt sent', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'testigo-fault-'));
    chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its data dir
    const fake = await fakeGraph();
    const pgPort = await freePort();
    const env = { ...graphEnv(fake), DATA_DIR: path.join(parent, 'data'), EMBEDDED_PG_PORT: String(pgPort) };
    let svc: ServiceProcess = await spawnBuiltService(env);
    try {
      await svc.waitUntilUp('/health/ready', 120_000);
      await provision(svc, fake, THROUGHPUT);
      const killAt = Math.floor(TOTAL * (0.2 + Math.random() * 0.4));
      let restarted: Promise<number> | null = null;
      let sentAtKill = 0;
      const load = await runLoad(() => [svc.url], {
        onProgress: (acked) => {
          if (acked !== killAt) return;
          sentAtKill = fake.sent.length;
          svc.child.kill('SIGKILL');
          const t0 = performance.now();
          restarted = (async () => {
            await svc.exited;
            svc = await spawnBuiltService(env, { port: svc.port });
            await svc.waitUntilUp('/health/ready', 120_000);
            return (performance.now() - t0) / 1000;
          })();
        },
      });
      const restartSeconds = await restarted!;
      const outcome = await settle(`postgres://postgres:postgres@127.0.0.1:${pgPort}/testigo`, fake);
      const evidence = await evidenceOutcome(`postgres://postgres:postgres@127.0.0.1:${pgPort}/testigo`);
      report('kill -9 under load', {
        users: USERS,
        calls: TOTAL,
        killedAfterAcks: killAt,
        promptsSentAtKill: sentAtKill,
        restartSeconds: +restartSeconds.toFixed(1),
        ...load,
        ...outcome,
        evidence,
      });
      expect(svc.output()).toContain('left running');
      expect(evidence).toMatchObject({ events: evidence.leaves, deferred: 0, brokenChains: 0 });
      expect(outcome.lostCalls).toBe(0);
      expect(outcome.complete).toBe(USERS);
      expect(outcome.undelivered).toBe(0);
      // The README's bound: a crash may send again what the tick in flight had handed over, at most one second of
      // the line's throughput.
      expect(outcome.duplicates).toBeLessThanOrEqual(THROUGHPUT);
    } finally {
      if (svc.child.exitCode === null && svc.child.signalCode === null) {
        svc.child.kill('SIGINT');
        await svc.exited;
      }
      await fake.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('PostgreSQL crashed (immediate shutdown) for 10 s mid-load: 503 with Retry-After (never a 500, never past 10 s), reconnects, nothing answered 200 is lost, the evidence whole', async () => {
    const db = await startOwnPostgres();
    const fake = await fakeGraph();
    const filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
    const svc = await spawnBuiltService({ ...graphEnv(fake), DATABASE_URL: db.url, SECRETS_KEY: TEST_SECRETS_KEY, FILES_DIR: filesDir });
    try {
      await svc.waitUntilUp('/health/ready', 60_000);
      await provision(svc, fake, THROUGHPUT);
      let outage: Promise<void> | null = null;
      const stopAt = Math.floor(TOTAL * 0.3);
      let readyDuring = 0;
      const load = await runLoad(() => [svc.url], {
        onProgress: (acked) => {
          if (acked !== stopAt) return;
          outage = (async () => {
            // No clean shutdown: the restart recovers from the WAL, and PostgreSQL empties the unlogged tables
            // (the evidence leaf queue among them).
            await db.crash();
            await new Promise((r) => setTimeout(r, 2000));
            readyDuring = (await svc.request('GET', '/health/ready')).status;
            await new Promise((r) => setTimeout(r, 8000));
            await db.start();
          })();
        },
      });
      await outage;
      const outcome = await settle(db.url, fake);
      const evidence = await evidenceOutcome(db.url);
      report('PostgreSQL crash mid-load', { users: USERS, calls: TOTAL, outageSeconds: 10, readyDuringOutage: readyDuring, ...load, ...outcome, evidence });
      expect(evidence).toMatchObject({ events: evidence.leaves, deferred: 0, brokenChains: 0 });
      expect(svc.output()).toContain('evidence leaf queue was lost');
      expect(readyDuring).toBe(503);
      expect(load.tries['503']).toBeGreaterThan(0);
      expect(load.tries['500']).toBeUndefined();
      expect(load.without503RetryAfter).toBe(0);
      expect(load.maxTryMs).toBeLessThan(10_000);
      expect(outcome.lostCalls).toBe(0);
      expect(outcome.complete).toBe(USERS);
      expect(outcome.undelivered).toBe(0);
      // Sends whose outcome could not be recorded while the database was away go out again after their lease.
      expect(outcome.duplicates).toBeLessThanOrEqual(THROUGHPUT);
      expect(svc.output()).not.toContain('unhandled error');
    } finally {
      svc.child.kill('SIGTERM');
      await svc.exited;
      await db.destroy();
      await fake.close();
      rmSync(filesDir, { recursive: true, force: true });
    }
  });
});
