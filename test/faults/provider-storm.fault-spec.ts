import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { FakeGraph } from '../fakes/fake-graph.js';
import { spawnBuiltService } from '../support/built-service.js';
import { startOwnPostgres } from '../support/own-postgres.js';
import { startSendCounter } from './send-counter.js';
import { ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/test-app.js';
import { LINE, PROMPTS_PER_USER, QUESTIONS, provision, report, runLoad, settle, userPhone, USERS } from './harness.js';

const THROUGHPUT = 80;
const STORM_MS = 60_000;

/** A seeded generator (mulberry32): the same storm on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Most send requests the provider saw in any window of `ms` starting at a request. */
function busiestWindow(arrivals: number[], ms: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('Faults: provider storm (built service)', () => {
  it('30 % of sends answered 429 / 500 / no answer for a minute: every prompt delivered once, in order, never over 80 a second', async () => {
    const db = await startOwnPostgres();
    const fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: LINE.accessToken });
    // The line's rate is counted where requests arrive, in a process of its own (see send-counter.ts).
    const counter = await startSendCounter(fake.baseUrl);
    const filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
    const svc = await spawnBuiltService({
      GRAPH_API_BASE_URL: counter.url,
      GRAPH_API_VERSION: 'v23.0',
      ALLOW_LOCAL_URLS: 'true',
      ADMIN_TOKEN,
      DATABASE_URL: db.url,
      SECRETS_KEY: TEST_SECRETS_KEY,
      FILES_DIR: filesDir,
    });
    try {
      await svc.waitUntilUp('/health/ready', 60_000);
      await provision(svc, fake, THROUGHPUT);
      // A timed-out send is held past the service's 30 s limit for a provider answer, then cut.
      fake.storm({ fraction: 0.3, hangMs: 35_000, random: seeded(20_261_202) });
      const heal = new Promise<void>((resolve) =>
        setTimeout(() => {
          fake.storm(null);
          resolve();
        }, STORM_MS),
      );
      const t0 = performance.now();
      const load = await runLoad(() => [svc.url]);
      await heal;
      const outcome = await settle(db.url, fake, 240_000);
      const seconds = (performance.now() - t0) / 1000;

      // Each user's prompts arrived in the order the flow asks them.
      const expected = [...Array.from({ length: QUESTIONS }, (_, i) => `Pregunta ${i + 1}`), 'Gracias'];
      let outOfOrder = 0;
      for (let u = 0; u < USERS; u++) {
        const texts = fake
          .sentTo(userPhone(u))
          .sort((a, b) => a.at - b.at)
          .map((m) => (m.body.text as { body?: string } | undefined)?.body);
        if (JSON.stringify(texts) !== JSON.stringify(expected)) outOfOrder++;
      }
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const failed = (await client.query(`SELECT count(*)::int AS n FROM messages WHERE direction = 'outbound' AND status = 'failed'`)).rows[0].n;
      await client.end();
      const arrivals = await counter.arrivals();
      const busiest = busiestWindow(arrivals, 1000);
      report('provider storm', {
        users: USERS,
        prompts: USERS * PROMPTS_PER_USER,
        stormSeconds: STORM_MS / 1000,
        stormed: fake.stormed,
        sendRequests: arrivals.length,
        busiestSecond: busiest,
        outOfOrder,
        failed,
        secondsToSettle: +seconds.toFixed(1),
        acked: load.acked,
        ...outcome,
      });
      expect(fake.stormed.rate_limited + fake.stormed.server_error + fake.stormed.timeout).toBeGreaterThan(0);
      expect(fake.stormed.timeout).toBeGreaterThan(0);
      expect(outcome.lostCalls).toBe(0);
      expect(failed).toBe(0);
      expect(outcome.complete).toBe(USERS);
      expect(outcome.undelivered).toBe(0);
      expect(outcome.duplicates).toBe(0);
      expect(outOfOrder).toBe(0);
      expect(arrivals.length).toBe(fake.sendArrivals.length);
      expect(busiest).toBeLessThanOrEqual(THROUGHPUT);
    } finally {
      fake.storm(null);
      svc.child.kill('SIGTERM');
      await svc.exited;
      await counter.close();
      await fake.close();
      await db.destroy();
      rmSync(filesDir, { recursive: true, force: true });
    }
  });
});
