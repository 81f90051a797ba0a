import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import { FollowUpsCron } from '../src/modules/reengagement/follow-ups.cron.js';
import { CLAIM_DUE_SQL } from '../src/modules/reengagement/follow-ups.service.js';
import { benchDatabase, percentile, benchEnv } from './support.js';

const SCHEDULED = 1_000_000;
const DUE = 10_000;
const BATCH = 500;

/**
 * The follow-up cron against a large table: 1,000,000 scheduled follow-ups, 10,000 of them due. Reports the cost of a
 * tick with none due (median/p95 of 20), the time for ticks to claim and enqueue all 10,000 due, and the claim plan.
 */
export default async function followUpsBench(): Promise<void> {
  const pg = await benchDatabase();
  const config = loadConfig({
    ...benchEnv(),
    LOG_LEVEL: 'silent',
    DATABASE_URL: pg.url,
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    WORKERS_ENABLED: 'false',
  });
  const app = await NestFactory.create(AppModule.forRoot(config, pg.url), { logger: ['error'], bodyParser: false });
  try {
    await app.init();
    const db = app.get(DataSource);
    const cron = app.get(FollowUpsCron);

    await db.query(`INSERT INTO tenants (id, name) VALUES ('TNTBENCH', 'bench')`);
    await db.query(`INSERT INTO whatsapp_lines (id, tenant_id, phone_number, provider) VALUES ('LINBENCH', 'TNTBENCH', '+14155550100', 'sandbox')`);
    const insert = (from: number, to: number, due: string) =>
      db.query(
        `INSERT INTO follow_ups (id, tenant_id, process_id, line_id, phone, step_id, asked_at, due_at, window_closes_at, message, language, status, created_at)
         SELECT 'FUP' || lpad(i::text, 10, '0'), 'TNTBENCH', 'PRC' || i, 'LINBENCH', '+57300' || lpad(i::text, 7, '0'), 'email',
                now() - interval '2 hours', ${due}, now() + interval '20 hours', 'Tienes un proceso activo en curso', 'es', 'scheduled', now()
         FROM generate_series($1::int, $2::int) AS i`,
        [from, to],
      );
    let t0 = performance.now();
    // The 990,000 not yet due: spread over the next 20 hours.
    await insert(1, SCHEDULED - DUE, `now() + interval '1 hour' + (i % 68400) * interval '1 second'`);
    await db.query(`VACUUM ANALYZE follow_ups`);
    console.log(`seeded ${(SCHEDULED - DUE).toLocaleString('en')} future follow-ups in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const explain = async (label: string) => {
      // Run as the cron runs it, in a transaction (its row locks end with it; nothing is modified).
      const plan = await db.transaction(async (m) => {
        const rows: Array<{ 'QUERY PLAN': string }> = await m.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${CLAIM_DUE_SQL}`, [new Date(), BATCH]);
        return rows.map((r) => r['QUERY PLAN']);
      });
      console.log(`\nclaim plan, ${label}:\n  ${plan.join('\n  ')}`);
      return plan.join('\n');
    };

    // (a) A tick with nothing due, 1,000,000 − 10,000 rows scheduled.
    for (let i = 0; i < 5; i++) await cron.tick(BATCH); // warm-up: connections, plan cache
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) {
      t0 = performance.now();
      const n = await cron.tick(BATCH);
      idle.push(performance.now() - t0);
      if (n !== 0) throw new Error(`expected nothing due, claimed ${n}`);
    }
    idle.sort((a, b) => a - b);
    const planIdle = await explain('none due');

    // (b) 10,000 become due: 1,000,000 scheduled in all.
    await insert(SCHEDULED - DUE + 1, SCHEDULED, `now() - interval '1 minute' + (i % 60) * interval '1 second'`);
    await db.query(`ANALYZE follow_ups`);
    const [{ n: scheduled }] = await db.query(`SELECT count(*)::int AS n FROM follow_ups WHERE status = 'scheduled'`);
    const planDue = await explain(`${DUE.toLocaleString('en')} due, batch of ${BATCH}`);
    if (!/follow_ups_due_idx/.test(planIdle) || !/follow_ups_due_idx/.test(planDue)) throw new Error('the claim does not use follow_ups_due_idx');

    t0 = performance.now();
    const claimed = await cron.tick(BATCH);
    const allDueS = (performance.now() - t0) / 1000;
    const [{ queued }] = await db.query(`SELECT count(*)::int AS queued FROM messages WHERE status = 'queued' AND type = 'buttons'`);
    const [{ sent }] = await db.query(`SELECT count(*)::int AS sent FROM follow_ups WHERE status = 'sent'`);
    if (claimed !== DUE || queued !== DUE || sent !== DUE) throw new Error(`claimed ${claimed}, queued ${queued}, marked sent ${sent}; expected ${DUE}`);

    console.log(`\nfollow_ups: ${scheduled.toLocaleString('en')} scheduled, ${DUE.toLocaleString('en')} due`);
    console.log(`tick with none due: median ${percentile(idle, 50).toFixed(2)} ms, p95 ${percentile(idle, 95).toFixed(2)} ms (20 runs; target < 10 ms)`);
    console.log(
      `ticks claiming and enqueueing all ${DUE.toLocaleString('en')} due: ${allDueS.toFixed(2)} s (${Math.round(DUE / allDueS).toLocaleString('en')}/s, batches of ${BATCH}; target < 10 s)`,
    );
  } finally {
    await app.close();
    await pg.stop();
  }
}
