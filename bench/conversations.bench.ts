import { createHmac } from 'node:crypto';
import pg from 'pg';
import { FakeGraph, type SentMessage } from '../test/fakes/fake-graph.js';
import { benchDatabase, cpuSeconds, httpJson, percentile, startService } from './support.js';

/**
 * Users (BENCH_USERS, default 3,000: 15,000 answers, about 16 s of load here). With 1,200 the load lasted about 7 s, and
 * single runs of the same build varied by ±15 %; with 3,000 by ±4–8 % within a batch.
 */
const USERS = Number(process.env.BENCH_USERS ?? 3000);
const QUESTIONS = 5;
/**
 * WhatsApp lines the users are spread over (BENCH_LINES, default 2). Each line is at WhatsApp's highest throughput,
 * 1,000 messages/s, and the send queue keeps each under it (about 980 sends/s): with one line, the line and not the
 * engine sets the ceiling.
 */
const LINES = Number(process.env.BENCH_LINES ?? 2);
const APP_SECRET = 'bench-app-secret';
const TOKEN = 'bench-token';
const lineOf = (u: number) => u % LINES;
const pnid = (l: number) => String(900000000002 + l);
const linePhone = (l: number) => String(573001230000 + l);

const FLOW = {
  name: 'bench',
  steps: [
    ...Array.from({ length: QUESTIONS }, (_, i) => ({ id: `q${i}`, type: 'question', text: `Pregunta ${i + 1}`, validator: { type: 'text', min_length: 1 } })),
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
};

function webhook(line: number, from: string, text: string, seq: number): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '800000000002',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: linePhone(line), phone_number_id: pnid(line) },
              contacts: [{ profile: { name: 'Bench' }, wa_id: from }],
              messages: [{ from, id: `wamid.CONV${from}.${seq}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
}

/**
 * The engine end to end: USERS users each start a 5-question flow and answer every question as soon as it arrives,
 * through signed webhooks into the built service (child process, workers on), prompts going out to a fake Graph API.
 * An answer's latency runs from posting it to the fake receiving the next prompt.
 */
export default async function run(): Promise<void> {
  const db = await benchDatabase();
  const fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: TOKEN });
  const env = { DATABASE_URL: db.url, ADMIN_TOKEN: 'bench-admin-token-123456', GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0' };
  // BENCH_SPLIT=true: one instance takes the webhooks (workers off), another runs the workers, on the same database.
  const split = process.env.BENCH_SPLIT === 'true';
  // BENCH_PROCESSES: the service's PROCESSES (Node.js processes serving the one instance; default 1).
  const svc = await startService({ ...env, WORKERS_ENABLED: split ? 'false' : 'true', PROCESSES: process.env.BENCH_PROCESSES ?? '1' });
  const worker = split ? await startService({ ...env, WORKERS_ENABLED: 'true' }) : null;
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const adminHeaders = { authorization: 'Bearer bench-admin-token-123456' };
    const created = await httpJson('POST', `${svc.url}/v1/admin/tenants`, JSON.stringify({ name: 'bench' }), adminHeaders);
    if (created.status !== 201) throw new Error(`POST /v1/admin/tenants answered ${created.status}: ${created.body}`);
    const tenant = JSON.parse(created.body);
    const key = JSON.parse((await httpJson('POST', `${svc.url}/v1/admin/tenants/${tenant.id}/api-keys`, '{}', adminHeaders)).body).key;
    const api = { 'x-api-key': key };
    const flow = JSON.parse((await httpJson('POST', `${svc.url}/v1/flows`, JSON.stringify(FLOW), api)).body);
    for (let l = 0; l < LINES; l++) {
      fake.addPhoneNumber({ id: pnid(l), phoneNumber: `+${linePhone(l)}` });
      const line = {
        phone_number: `+${linePhone(l)}`,
        provider: 'cloud_api',
        phone_number_id: pnid(l),
        waba_id: '800000000002',
        access_token: TOKEN,
        app_secret: APP_SECRET,
        verify_token: 'v',
        throughput_mps: 1000,
      };
      await httpJson('POST', `${svc.url}/v1/whatsapp/numbers`, JSON.stringify(line), api);
      await httpJson('POST', `${svc.url}/v1/whatsapp/inbounds`, JSON.stringify({ waba_phone_number: `+${linePhone(l)}`, flow_id: flow.id, inbound_message: 'empezar' }), api);
    }

    const waiting = new Map<string, (m: SentMessage) => void>();
    fake.onSent = (m) => waiting.get(m.to)?.(m);
    const post = (from: string, text: string, seq: number) => {
      const body = webhook(lineOf(Number(from) - 573100000000), from, text, seq);
      return httpJson('POST', `${svc.url}/v1/whatsapp/webhook`, body, { 'x-hub-signature-256': 'sha256=' + createHmac('sha256', APP_SECRET).update(body).digest('hex') });
    };
    /** Posts a message and resolves when the fake Graph API receives the user's next prompt. */
    const exchange = (from: string, text: string, seq: number) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const timer = setTimeout(() => reject(new Error(`no prompt for ${from} after message ${seq}`)), 60_000);
        waiting.set(from, () => {
          clearTimeout(timer);
          waiting.delete(from);
          resolve(performance.now() - t0);
        });
        post(from, text, seq).catch(reject);
      });

    const latencies: number[] = [];
    const finishedAt: number[] = [];
    const cpu0 = cpuSeconds(svc.child);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: USERS }, async (_, u) => {
        const from = String(573100000000 + u);
        await exchange(from, 'empezar', 0);
        for (let q = 1; q <= QUESTIONS; q++) {
          latencies.push(await exchange(from, `respuesta ${q}`, q));
          finishedAt.push(performance.now());
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(svc.child);
    // Certificates of evidence are background work: how many were made while the answers were still coming.
    const certificates = (await admin.query(`SELECT to_regclass('evidence_certificates') AS t`)).rows[0].t
      ? ((await admin.query(`SELECT count(*)::int AS n FROM evidence_certificates WHERE state = 'ready'`)).rows[0].n as number)
      : null;
    const done = (await admin.query(`SELECT count(*)::int AS n FROM processes WHERE status = 'succeeded'`)).rows[0].n;
    const sorted = latencies.sort((a, b) => a - b);
    console.log(
      `users:                ${USERS} on ${LINES} line(s) of 1,000 msg/s, ${QUESTIONS} questions each; processes succeeded: ${done}${split ? ' (ingress and workers in two instances)' : ''}`,
    );
    console.log(`service:              PROCESSES=${process.env.BENCH_PROCESSES ?? '1'}`);
    console.log(`answers processed:    ${Math.round(latencies.length / seconds)} answers/s end to end (${latencies.length} answers in ${seconds.toFixed(1)} s)`);
    // Without the ramp-up (all users starting at once) and the tail (the last users finishing alone).
    const done10 = percentile(finishedAt, 10);
    const done90 = percentile(finishedAt, 90);
    console.log(
      `steady state:         ${Math.round((0.8 * finishedAt.length) / ((done90 - done10) / 1000))} answers/s (between the 10th and 90th percentile of answer completion)`,
    );
    console.log(`answer → next prompt: p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`);
    const perAnswer = (k: keyof typeof cpu0) => ((cpu1[k] - cpu0[k]) * 1000) / latencies.length;
    const total = perAnswer('service') + perAnswer('database') + perAnswer('load');
    console.log(
      `CPU per answer:       service ${perAnswer('service').toFixed(2)} ms, PostgreSQL ${perAnswer('database').toFixed(2)} ms, load generator ${perAnswer('load').toFixed(2)} ms (during the load; ${split ? 'ingress instance only; ' : ''}total ${total.toFixed(2)} ms)`,
    );
    if (certificates !== null) console.log(`certificates made:    ${certificates} of ${done} during the load`);
    console.log(`service peak RSS:     ${svc.peakRssMb()} MB${worker ? ` (ingress), ${worker.peakRssMb()} MB (workers)` : ''}`);
    const stages = (
      await admin.query(`SELECT
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at) * 1000) FROM webhook_events) AS processing_ms,
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at) * 1000) FROM messages WHERE direction = 'outbound') AS queue_ms`)
    ).rows[0];
    console.log(`median stage times:   stored → processed ${Number(stages.processing_ms).toFixed(0)} ms, prompt queued → sent ${Number(stages.queue_ms).toFixed(0)} ms`);
  } finally {
    await svc.stop();
    await worker?.stop();
    await admin.end();
    await fake.close();
    await db.stop();
  }
}
