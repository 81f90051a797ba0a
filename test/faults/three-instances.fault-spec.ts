import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MAX_IN_FLIGHT } from '../../src/modules/hooks/hook-dispatcher.js';
import { FakeGraph } from '../fakes/fake-graph.js';
import { HookReceiver } from '../fakes/hook-receiver.js';
import { spawnBuiltService, type ServiceProcess } from '../support/built-service.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { ADMIN_TOKEN, TEST_SECRETS_KEY } from '../support/test-app.js';
import { CALLS_PER_USER, LINE, provision, report, runLoad, settle, USERS } from './harness.js';

const TOTAL = USERS * CALLS_PER_USER;
const THROUGHPUT = 200;

const fakeGraph = () => FakeGraph.start({ mode: 'cloud_api', accessToken: LINE.accessToken });

/** The environment of every instance on `db` (the same configuration on each, as the topology requires). */
function instanceEnv(db: OwnPostgres, fake: FakeGraph, filesDir: string, workers: boolean): Record<string, string> {
  return {
    GRAPH_API_BASE_URL: fake.baseUrl,
    GRAPH_API_VERSION: 'v23.0',
    ALLOW_LOCAL_URLS: 'true',
    ADMIN_TOKEN,
    DATABASE_URL: db.url,
    SECRETS_KEY: TEST_SECRETS_KEY,
    FILES_DIR: filesDir,
    WORKERS_ENABLED: String(workers),
  };
}

/**
 * Signed webhook calls from a Node.js process of their own (a load generator inside Jest's module sandbox is slower
 * than the service), 64 in flight over keep-alive connections, spread over `urls`; resolves with the 200s and calls/s.
 */
function blastFrom(urls: string[], calls: number, tag: string): Promise<{ ok: number; perSecond: number }> {
  const script = `
    import { createHmac } from 'node:crypto';
    import http from 'node:http';
    const [urls, calls, tag, secret, display, pnid, waba] = JSON.parse(process.env.BLAST);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const post = (url, raw, sig) => new Promise((resolve) => {
      const req = http.request(url + '/v1/whatsapp/webhook', { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(raw), 'x-hub-signature-256': sig } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
      req.on('error', () => resolve(0));
      req.end(raw);
    });
    let next = 0, ok = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, async () => {
      for (let i = next++; i < calls; i = next++) {
        const from = String(573300000000 + (i % 500));
        const raw = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: waba, changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp', metadata: { display_phone_number: display, phone_number_id: pnid },
          contacts: [{ profile: { name: 'U' }, wa_id: from }],
          messages: [{ from, id: 'wamid.SCALE' + tag + '.' + i, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: 'hola' } }] } }] }] });
        if ((await post(urls[i % urls.length], raw, 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex'))) === 200) ok++;
      }
    }));
    process.stdout.write(JSON.stringify({ ok, perSecond: Math.round(calls / ((performance.now() - t0) / 1000)) }));
    agent.destroy();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, BLAST: JSON.stringify([urls, calls, tag, LINE.appSecret, LINE.display, LINE.phoneNumberId, LINE.wabaId]) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as { ok: number; perSecond: number });
      } catch {
        reject(new Error(`the load generator failed: ${out}`));
      }
    });
  });
}

async function stopAll(instances: ServiceProcess[]): Promise<void> {
  for (const s of instances) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(instances.map((s) => s.exited));
}

describe('Faults: several instances on one database (built service)', () => {
  it('three instances (two full, one ingress-only), one killed with -9 mid-load: every call applied once, every prompt and hook delivered, repeats only of what the dead one had in flight; the others finish its leased work', async () => {
    const db = await startOwnPostgres();
    const fake = await fakeGraph();
    const hooks = await new HookReceiver().start();
    const filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
    const instances: ServiceProcess[] = [];
    try {
      // The first one migrates; the others start on a migrated database.
      instances.push(await spawnBuiltService(instanceEnv(db, fake, filesDir, true)));
      await instances[0]!.waitUntilUp('/health/ready', 60_000);
      instances.push(await spawnBuiltService(instanceEnv(db, fake, filesDir, true)), await spawnBuiltService(instanceEnv(db, fake, filesDir, false)));
      await Promise.all(instances.map((s) => s.waitUntilUp('/health/ready', 60_000)));
      const [victim, survivor, ingress] = instances as [ServiceProcess, ServiceProcess, ServiceProcess];
      const { apiKey } = await provision(ingress, fake, THROUGHPUT);
      const hook = await ingress.request('POST', '/v1/hooks', { body: { url: hooks.url, events: ['process.succeeded'] }, headers: { 'x-api-key': apiKey } });
      expect(hook.status).toBe(201);

      const alive = new Set<ServiceProcess>(instances);
      const killAt = Math.floor(TOTAL * 0.4);
      let killedAt = 0;
      const load = await runLoad(() => [...alive].map((s) => s.url), {
        onProgress: (acked) => {
          if (acked !== killAt) return;
          alive.delete(victim);
          victim.child.kill('SIGKILL');
          killedAt = performance.now();
        },
      });
      const outcome = await settle(db.url, fake, 180_000);
      // Hook deliveries the dead instance had leased wait out their lease; then every one has arrived.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const deadline = Date.now() + 120_000;
      let pendingHooks = -1;
      while (Date.now() < deadline) {
        pendingHooks = (await client.query(`SELECT count(*)::int AS n FROM hook_deliveries WHERE status <> 'succeeded'`)).rows[0].n;
        if (pendingHooks === 0 && hooks.requests.length >= USERS) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const deliveries = (await client.query(`SELECT count(*)::int AS n FROM hook_deliveries`)).rows[0].n;
      const events = (await client.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status <> 'processed'`)).rows[0].n;
      await client.end();
      const hookIds = hooks.requests.map((r) => String(r.headers['webhook-id']));
      const settledSeconds = (performance.now() - killedAt) / 1000;
      report('three instances on one database, one killed with -9', {
        users: USERS,
        calls: TOTAL,
        killedAfterAcks: killAt,
        settledSecondsAfterKill: +settledSeconds.toFixed(1),
        hookDeliveries: deliveries,
        hookArrivals: hookIds.length,
        hookRepeats: hookIds.length - new Set(hookIds).size,
        distinctHookIds: new Set(hookIds).size,
        pendingHooks,
        unprocessedWebhookEvents: events,
        ...load,
        ...outcome,
      });
      expect(outcome.lostCalls).toBe(0);
      expect(outcome.complete).toBe(USERS);
      expect(outcome.undelivered).toBe(0);
      // The README's bound for a crash: at most one second of the line's throughput sent twice.
      expect(outcome.duplicates).toBeLessThanOrEqual(THROUGHPUT);
      expect(events).toBe(0);
      expect(deliveries).toBe(USERS);
      expect(pendingHooks).toBe(0);
      // Every delivery arrived; the only repeats (same webhook-id, which receivers dedupe on) are the tries the dead
      // instance had in flight, sent but not recorded, taken again after their lease.
      expect(new Set(hookIds).size).toBe(USERS);
      expect(hookIds.length - USERS).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(survivor.child.exitCode).toBeNull();
    } finally {
      await stopAll(instances);
      await hooks.stop();
      await fake.close();
      await db.destroy();
      rmSync(filesDir, { recursive: true, force: true });
    }
  });

  it('webhook acknowledgements: one ingress instance against two on the same database (figures only)', async () => {
    const db = await startOwnPostgres();
    const fake = await fakeGraph();
    const filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
    const instances: ServiceProcess[] = [];
    try {
      instances.push(await spawnBuiltService(instanceEnv(db, fake, filesDir, false)));
      await instances[0]!.waitUntilUp('/health/ready', 60_000);
      instances.push(await spawnBuiltService(instanceEnv(db, fake, filesDir, false)));
      await instances[1]!.waitUntilUp('/health/ready', 60_000);
      await provision(instances[0]!, fake, THROUGHPUT);
      const CALLS = 10_000;
      let round = 0;
      const blast = async (urls: string[]): Promise<number> => {
        const figures = await blastFrom(urls, CALLS, `R${round++}`);
        expect(figures).toMatchObject({ ok: CALLS });
        return figures.perSecond;
      };
      await blast(instances.map((s) => s.url)); // warm-up of both, not counted
      const one = await blast([instances[0]!.url]);
      const two = await blast(instances.map((s) => s.url));
      report('webhook acks/s, one instance against two (ingress only, one PostgreSQL, 64 in flight from a process of their own)', {
        calls: CALLS,
        oneInstance: one,
        twoInstances: two,
      });
      expect(one).toBeGreaterThan(0);
      expect(two).toBeGreaterThan(0);
    } finally {
      await stopAll(instances);
      await fake.close();
      await db.destroy();
      rmSync(filesDir, { recursive: true, force: true });
    }
  });
});
