import { createHmac } from 'node:crypto';
import pg from 'pg';
import { benchDatabase, httpJson, percentile, runLoad, startService } from './support.js';

const TOTAL = 20_000;
/** In-flight webhook calls; BENCH_CONCURRENCY changes it. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const USERS = 2_000;
const APP_SECRET = 'bench-app-secret';
const PNID = '900000000001';

function textWebhook(i: number): string {
  const from = String(573000000000 + (i % USERS));
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '800000000001',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '573001230000', phone_number_id: PNID },
              contacts: [{ profile: { name: `User ${i % USERS}` }, wa_id: from }],
              messages: [{ from, id: `wamid.BENCH${i}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `answer ${i}` } }],
            },
          },
        ],
      },
    ],
  });
}

/**
 * Webhook ingress: signed text-message webhooks from many users into the built service (child process, workers
 * on), over 127.0.0.1 with bounded concurrency. Reports acknowledged webhooks/s, ack latency and the service's peak RSS.
 */
export default async function run(): Promise<void> {
  const db = await benchDatabase();
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`INSERT INTO tenants (id, name) VALUES ('TNTBENCH', 'bench')`);
  await admin.query(
    `INSERT INTO whatsapp_lines (id, tenant_id, phone_number, provider, phone_number_id, waba_id, secrets)
     VALUES ('WANBENCH', 'TNTBENCH', '+573001230000', 'cloud_api', $1, '800000000001', $2)`,
    [PNID, { access_token: 'x', app_secret: APP_SECRET, verify_token: 'v' }],
  );
  const svc = await startService({ DATABASE_URL: db.url, ADMIN_TOKEN: 'bench-admin-token-123456', WORKERS_ENABLED: process.env.BENCH_WORKERS ?? 'true' });
  try {
    const bodies = Array.from({ length: TOTAL }, (_, i) => textWebhook(i));
    const sigs = bodies.map((b) => 'sha256=' + createHmac('sha256', APP_SECRET).update(b).digest('hex'));
    // Warm-up (JIT, connection pool), not measured.
    await runLoad(500, CONCURRENCY, async (i) => {
      const b = textWebhook(TOTAL + i);
      await httpJson('POST', `${svc.url}/v1/whatsapp/webhook`, b, { 'x-hub-signature-256': 'sha256=' + createHmac('sha256', APP_SECRET).update(b).digest('hex') });
    });
    let failures = 0;
    const t0 = performance.now();
    const latencies = await runLoad(TOTAL, CONCURRENCY, async (i) => {
      const res = await httpJson('POST', `${svc.url}/v1/whatsapp/webhook`, bodies[i], { 'x-hub-signature-256': sigs[i] });
      if (res.status !== 200) failures++;
    });
    const seconds = (performance.now() - t0) / 1000;
    const ackedAt = performance.now();
    // How long the in-process worker needs to turn the stored calls into recorded messages.
    let processed = 0;
    while (process.env.BENCH_WORKERS !== 'false' && processed < TOTAL + 500 && performance.now() - ackedAt < 120_000) {
      processed = (await admin.query(`SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound'`)).rows[0].n;
      if (processed < TOTAL + 500) await new Promise((r) => setTimeout(r, 200));
    }
    const drainSeconds = (performance.now() - ackedAt) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    const stored = (await admin.query(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0].n;
    console.log(`webhooks sent:        ${TOTAL} (${USERS} users, ${CONCURRENCY} concurrent), non-200: ${failures}`);
    console.log(`acknowledged:         ${Math.round(TOTAL / seconds)} webhooks/s (durable: ${stored} rows stored)`);
    console.log(`ack latency:          p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`);
    console.log(`processing backlog:   ${processed} messages recorded ${drainSeconds.toFixed(1)} s after the last ack`);
    console.log(`service peak RSS:     ${svc.peakRssMb()} MB`);
  } finally {
    await svc.stop();
    await admin.end();
    await db.stop();
  }
}
