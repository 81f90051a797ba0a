import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import type { CreateNumberDto } from '../src/modules/tenants/dto/number.dto.js';
import { LinesService } from '../src/modules/tenants/lines.service.js';
import { TenantsService } from '../src/modules/tenants/tenants.service.js';
import type { OutgoingMessage } from '../src/whatsapp/whatsapp.types.js';
import { FakeGraph } from '../test/fakes/fake-graph.js';
import { benchDatabase, benchEnv } from './support.js';

const TOKEN = 'EAAG-bench-token';
const FAST_SENDS = 5_000;
/** The fast line's rate limit; BENCH_FAST_MPS raises it to see the queue's own ceiling above the pacing. */
const FAST_MPS = Number(process.env.BENCH_FAST_MPS ?? 1000);
const PACED_SENDS = 400;
const PACED_MPS = 80;
const ENQUEUE_BATCH = 500;

/** Most sends in any 1-second window (sliding, over the send times in ms). */
export function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/**
 * The send queue into a fake Graph API: (1) sends/s of a line allowed 1,000 messages/s, 5,000 template sends to
 * distinct users; (2) the most sends in any second of a line paced at 80/s (must be ≤ 80).
 */
export default async function outboundSends(): Promise<void> {
  const db = await benchDatabase();
  const fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: TOKEN });
  try {
    const config = loadConfig({
      ...benchEnv(),
      DATABASE_URL: db.url,
      GRAPH_API_BASE_URL: fake.baseUrl,
      GRAPH_API_VERSION: 'v23.0',
      WORKERS_ENABLED: 'false',
      LOG_LEVEL: 'silent',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      ALLOW_LOCAL_URLS: 'true',
    });
    const app = await NestFactory.create(AppModule.forRoot(config, db.url), { logger: false, bodyParser: false });
    await app.init();
    try {
      const ds = app.get(DataSource);
      const tenant = await app.get(TenantsService).create('Bench');
      const lines = app.get(LinesService);
      const line = async (phone: string, pnid: string, mps: number) => {
        fake.addPhoneNumber({ id: pnid, phoneNumber: phone });
        const created = await lines.create(tenant.id, {
          phone_number: phone,
          provider: 'cloud_api',
          phone_number_id: pnid,
          waba_id: '102290129340398',
          access_token: TOKEN,
          app_secret: 'bench-secret',
          verify_token: `verify-${pnid}`,
          throughput_mps: mps,
        } as CreateNumberDto);
        return created.line;
      };
      const fastLine = await line('+573001230001', '900000000000001', FAST_MPS);
      const pacedLine = await line('+573001230002', '900000000000002', PACED_MPS);
      fake.seedTemplate({
        name: 'bench_receipt',
        language: 'es',
        status: 'APPROVED',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: 'Hola {{1}}, tu recibo está listo.' }],
      });
      const message = (i: number): OutgoingMessage => ({ kind: 'template', name: 'bench_receipt', language: 'es', bodyParams: [`Cliente ${i}`] });

      const messages = app.get(MessagesService);
      const enqueue = async (lineId: string, count: number, prefix: string) => {
        for (let from = 0; from < count; from += ENQUEUE_BATCH) {
          await ds.transaction(async (m) => {
            for (let i = from; i < Math.min(count, from + ENQUEUE_BATCH); i++) {
              await messages.enqueue(m, { tenantId: tenant.id, lineId, phone: `+57${prefix}${String(i).padStart(6, '0')}`, message: message(i) });
            }
          });
        }
      };
      const queue = app.get(SendQueueService);
      // Where a drain's time goes: ticks, and slots taken again because a send started too late for its slot.
      const stats = { ticks: 0, tickMs: [] as number[], slotCalls: 0, slotMs: 0 };
      const q = queue as unknown as { tick: () => Promise<number>; takeSlots: (...a: unknown[]) => Promise<number> };
      const tick = q.tick.bind(queue);
      const takeSlots = q.takeSlots.bind(queue);
      q.tick = async () => {
        const s = performance.now();
        const n = await tick();
        if (n > 0) {
          stats.ticks++;
          stats.tickMs.push(Math.round(performance.now() - s));
        }
        return n;
      };
      q.takeSlots = async (...a: unknown[]) => {
        const s = performance.now();
        stats.slotCalls++;
        const r = await takeSlots(...a);
        stats.slotMs += performance.now() - s;
        return r;
      };

      // (1) throughput with the rate limit set high
      const t0 = performance.now();
      await enqueue(fastLine.id, FAST_SENDS, '3101');
      const enqueueMs = performance.now() - t0;
      const t1 = performance.now();
      const handled = await queue.drain();
      const drainMs = performance.now() - t1;
      const delivered = fake.sent.filter((s) => s.phoneNumberId === fastLine.phoneNumberId).length;
      console.log(`enqueue: ${FAST_SENDS} template sends in ${enqueueMs.toFixed(0)} ms (${((FAST_SENDS / enqueueMs) * 1000).toFixed(0)}/s, batches of ${ENQUEUE_BATCH})`);
      console.log(
        `drain (throughput_mps=${FAST_MPS}): ${handled} handled, ${delivered} accepted by the fake in ${drainMs.toFixed(0)} ms → ${((delivered / drainMs) * 1000).toFixed(0)} sends/s`,
      );

      console.log(`  ${stats.ticks} ticks (ms: ${stats.tickMs.join(', ')}); ${stats.slotCalls} slot reservations (${stats.slotCalls - stats.ticks} re-reservations of late sends)`);

      // (2) pacing of an 80/s line
      await enqueue(pacedLine.id, PACED_SENDS, '3102');
      const t2 = performance.now();
      await queue.drain();
      const pacedMs = performance.now() - t2;
      const times = fake.sent.filter((s) => s.phoneNumberId === pacedLine.phoneNumberId).map((s) => s.at);
      const peak = maxPerSecond(times);
      console.log(
        `throughput_mps=${PACED_MPS}: ${times.length} sends in ${pacedMs.toFixed(0)} ms (${((times.length / pacedMs) * 1000).toFixed(1)}/s average); ` +
          `max in any sliding 1-second window: ${peak} ${peak <= PACED_MPS ? '(≤ ' + PACED_MPS + ', ok)' : '(EXCEEDS ' + PACED_MPS + ')'}`,
      );
    } finally {
      await app.close();
    }
  } finally {
    await fake.close();
    await db.stop();
  }
}
