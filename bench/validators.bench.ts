import pg from 'pg';
import { compilePattern } from '../src/modules/flows/validators/tenant-regex.js';
import { WORST_CASES } from '../test/support/worst-cases.js';
import { benchDatabase, httpJson, percentile, runLoad, startService } from './support.js';

const ADMIN = 'bench-admin-token-123456';
const USERS = Number(process.env.BENCH_USERS ?? 200);
const ANSWERS = 5;
/** Answers in flight (BENCH_CONCURRENCY). */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const LINE = '+14155550100';
/** A pattern RE2 runs without its DFA (too many states), and the longest answer its budget lets through. */
const PATTERN = '[ab]*a[ab]{400}';
const compiled = compilePattern(PATTERN);
const WORST_ANSWER = 'ab'.repeat(2048).slice(0, compiled.ok ? compiled.maxInput : 0);
/** What most answers look like, for comparison. */
const ORDINARY_ANSWER = 'ab'.repeat(20);

/**
 * 1. Each worst case of test/support/worst-cases.ts, timed in this process (median and slowest of 7 runs).
 * 2. The built service applying regex answers (200 users × 5 answers through the sandbox) while `/health` is asked
 *    every 10 ms, its latency being what every other tenant's requests see: first ordinary answers, then the
 *    worst-case ones, so that the two compare on the same machine at the same moment.
 */
export default async function run(): Promise<void> {
  console.log('worst case (in process)                                  median     max');
  for (const c of WORST_CASES) {
    const call = c.prepare();
    call();
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      call();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`${c.name.padEnd(55)} ${times[3].toFixed(2).padStart(7)} ms ${times[6].toFixed(2).padStart(7)} ms`);
  }

  const db = await benchDatabase();
  const svc = await startService({ DATABASE_URL: db.url, ADMIN_TOKEN: ADMIN });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const json = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
      const res = await httpJson(method, svc.url + path, JSON.stringify(body), headers);
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
      return JSON.parse(res.body || 'null');
    };
    const tenant = await json('POST', '/v1/admin/tenants', { name: 'bench' }, { authorization: `Bearer ${ADMIN}` });
    const { key } = await json('POST', `/v1/admin/tenants/${tenant.id}/api-keys`, { name: 'bench' }, { authorization: `Bearer ${ADMIN}` });
    const auth = { 'Truora-API-Key': key };
    await json('POST', '/v1/whatsapp/numbers', { phone_number: LINE, provider: 'sandbox' }, auth);
    const flow = await json(
      'POST',
      '/v1/flows',
      {
        name: 'Worst-case regex',
        steps: [
          { id: 'code', type: 'question', text: 'Código', validator: { type: 'regex', pattern: PATTERN }, max_attempts: 10 },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
        ],
      },
      auth,
    );
    await json('POST', '/v1/whatsapp/inbounds', { waba_phone_number: LINE, flow_id: flow.id, inbound_message: 'codigo' }, auth);
    const user = (i: number) => `+5730055${String(i).padStart(5, '0')}`;
    await runLoad(USERS, 16, async (i) => void (await json('POST', '/v1/sandbox/messages', { waba_phone_number: LINE, from: user(i), text: 'codigo' }, auth)));

    let sent = USERS;
    const phase = async (label: string, text: string) => {
      const health: number[] = [];
      let done = false;
      const probe = (async () => {
        while (!done) {
          const t0 = performance.now();
          await httpJson('GET', `${svc.url}/health`);
          health.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const t0 = performance.now();
      await runLoad(USERS * ANSWERS, CONCURRENCY, async (i) => void (await json('POST', '/v1/sandbox/messages', { waba_phone_number: LINE, from: user(i % USERS), text }, auth)));
      sent += USERS * ANSWERS;
      let applied = 0;
      while (applied < sent && performance.now() - t0 < 120_000) {
        applied = (await admin.query(`SELECT count(*)::int AS n FROM messages WHERE direction = 'inbound'`)).rows[0].n;
        if (applied < sent) await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - t0) / 1000;
      done = true;
      await probe;
      health.sort((a, b) => a - b);
      console.log(
        `\n${label}: ${USERS * ANSWERS} answers of ${text.length} characters against ${PATTERN}, applied in ${seconds.toFixed(1)} s (${applied}/${sent} inbound messages recorded)`,
      );
      console.log(
        `  /health meanwhile: ${health.length} probes, p50 ${percentile(health, 50).toFixed(1)} ms, p99 ${percentile(health, 99).toFixed(1)} ms, max ${health[health.length - 1].toFixed(1)} ms`,
      );
    };
    await phase('ordinary answers', ORDINARY_ANSWER);
    await phase('worst-case answers', WORST_ANSWER);
  } finally {
    await admin.end();
    await svc.stop();
    await db.stop();
  }
}
