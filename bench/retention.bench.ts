import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import { MessageRetentionCron } from '../src/modules/conversations/message-retention.cron.js';
import { benchDatabase, benchEnv, httpJson, percentile, startService } from './support.js';

const PROCESSES = 20_000;
const MESSAGES_PER_PROCESS = 50; // 1,000,000 messages to purge
const APP_SECRET = 'bench-app-secret';
const PNID = '900000000001';
/** Webhook load: this many callers, each waiting THINK_MS between calls (about 400 calls/s, well below saturation). */
const CALLERS = 4;
const THINK_MS = 10;
const BASELINE_MS = 20_000;

function webhook(i: number): string {
  const from = String(573000000000 + (i % 2000));
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
              contacts: [{ profile: { name: 'User' }, wa_id: from }],
              messages: [{ from, id: `wamid.RET${i}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: `answer ${i}` } }],
            },
          },
        ],
      },
    ],
  });
}

/**
 * The retention purge of 1,000,000 message bodies (MESSAGES_RETENTION_DAYS) against the webhook acknowledgements of
 * the built service on the same database: ack latency p99 with no purge, then while the purge job runs.
 */
export default async function retentionBench(): Promise<void> {
  const pg = await benchDatabase();
  // A trial signing key in a folder of this run, shared by the service.
  const signing = { SIGNING_TRIAL: 'true', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'testigo-bench-data-')) };
  const config = loadConfig({ ...benchEnv(), ...signing, LOG_LEVEL: 'silent', DATABASE_URL: pg.url, ADMIN_TOKEN: 'bench-admin-token-0123456789', WORKERS_ENABLED: 'false' });
  const app = await NestFactory.create(AppModule.forRoot(config, pg.url), { logger: ['error'], bodyParser: false });
  await app.init();
  const db = app.get(DataSource);
  let svc: Awaited<ReturnType<typeof startService>> | null = null;
  try {
    await db.query(`INSERT INTO tenants (id, name) VALUES ('TNTBENCH', 'bench')`);
    await db.query(
      `INSERT INTO whatsapp_lines (id, tenant_id, phone_number, provider, phone_number_id, waba_id, secrets)
       VALUES ('WANBENCH', 'TNTBENCH', '+573001230000', 'cloud_api', $1, '800000000001', $2)`,
      [PNID, { access_token: 'x', app_secret: APP_SECRET, verify_token: 'v' }],
    );
    let t0 = performance.now();
    await db.query(
      `INSERT INTO processes (id, tenant_id, line_id, phone, flow_id, flow_version, origin, status, started_at, finished_at, expires_at, updated_at)
       SELECT 'PRC' || lpad(i::text, 8, '0'), 'TNTBENCH', 'WANBENCH', '+57300' || lpad(i::text, 7, '0'), 'FLW0', 1, 'inbound', 'succeeded',
              now() - interval '500 days', now() - interval '450 days' + i * interval '1 second', now() - interval '499 days', now() - interval '450 days'
         FROM generate_series(1, $1::int) i`,
      [PROCESSES],
    );
    await db.query(
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, status, conversation_id, created_at)
       SELECT 'MSG' || lpad(p::text, 8, '0') || lpad(m::text, 3, '0'), 'TNTBENCH', 'WANBENCH', '+57300' || lpad(p::text, 7, '0'),
              CASE WHEN m % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'text',
              jsonb_build_object('text', repeat('Una respuesta del usuario con datos personales ', 3) || m), 'read', 'PRC' || lpad(p::text, 8, '0'),
              now() - interval '451 days'
         FROM generate_series(1, $1::int) p, generate_series(1, $2::int) m`,
      [PROCESSES, MESSAGES_PER_PROCESS],
    );
    await db.query(`VACUUM ANALYZE messages`);
    await db.query(`VACUUM ANALYZE processes`);
    console.log(
      `seeded ${(PROCESSES * MESSAGES_PER_PROCESS).toLocaleString('en')} messages of ${PROCESSES.toLocaleString('en')} finished processes in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    svc = await startService({ ...signing, DATABASE_URL: pg.url, ADMIN_TOKEN: 'bench-admin-token-123456', WORKERS_ENABLED: 'false' });
    // /health answers while the service still migrates; acknowledgements start once it is ready.
    for (let i = 0; i < 300; i++) {
      const ready = await httpJson('GET', `${svc.url}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const url = `${svc.url}/v1/whatsapp/webhook`;
    let seq = 0;
    let failures = 0;
    /** Acks until `done()` is true; returns their latencies in ms. */
    const load = async (done: () => boolean): Promise<number[]> => {
      const latencies: number[] = [];
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          while (!done()) {
            const body = webhook(seq++);
            const sig = 'sha256=' + createHmac('sha256', APP_SECRET).update(body).digest('hex');
            const start = performance.now();
            const status = await httpJson('POST', url, body, { 'x-hub-signature-256': sig }).then(
              (r) => r.status,
              () => 0,
            );
            latencies.push(performance.now() - start);
            if (status !== 200) failures++;
            await new Promise((r) => setTimeout(r, THINK_MS));
          }
        }),
      );
      return latencies.sort((a, b) => a - b);
    };
    const warm = performance.now();
    await load(() => performance.now() - warm > 3000);
    const base = performance.now();
    const baseline = await load(() => performance.now() - base > BASELINE_MS);

    let purging = true;
    t0 = performance.now();
    const purge = app
      .get(MessageRetentionCron)
      .purgeExpired()
      .finally(() => (purging = false));
    const during = await load(() => !purging);
    const result = await purge;
    const seconds = (performance.now() - t0) / 1000;
    // The same load once more with no purge: the machine's own drift shows as the gap between the two baselines.
    const after0 = performance.now();
    const after = await load(() => performance.now() - after0 > BASELINE_MS);
    const report = (label: string, l: number[]) =>
      console.log(
        `${label} ${l.length} acks (${Math.round(l.length / (label.startsWith('no') ? BASELINE_MS / 1000 : seconds))}/s): p50 ${percentile(l, 50).toFixed(2)} ms, p99 ${percentile(l, 99).toFixed(2)} ms`,
      );
    console.log(
      `purge:               ${result.messages.toLocaleString('en')} message bodies of ${result.processes.toLocaleString('en')} processes in ${seconds.toFixed(1)} s (${Math.round(result.messages / seconds)}/s)`,
    );
    report('no purge:           ', baseline);
    report('during the purge:   ', during);
    report('no purge, after:    ', after);
    const rise = (percentile(during, 99) / ((percentile(baseline, 99) + percentile(after, 99)) / 2) - 1) * 100;
    console.log(`ack p99 rise:        ${rise.toFixed(1)} % against the mean of the two baselines (limit 20 %), non-200: ${failures}`);
  } finally {
    await svc?.stop();
    await app.close();
    await pg.stop();
  }
}
