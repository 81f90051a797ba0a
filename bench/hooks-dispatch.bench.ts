import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import { HookDispatcher } from '../src/modules/hooks/hook-dispatcher.js';
import { HooksService } from '../src/modules/hooks/hooks.service.js';
import { TenantsService } from '../src/modules/tenants/tenants.service.js';
import { benchDatabase, benchEnv } from './support.js';
import { spawn, type ChildProcess } from 'node:child_process';

const EVENTS_PER_TX = 100;

/** The receiver runs in its own process, as a client's endpoint would: it answers 200 and counts requests. */
const RECEIVER = `
const http = require('node:http');
let count = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET') { res.end(String(count)); return; }
  req.resume();
  req.on('end', () => { count++; res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function startReceiver(): Promise<{ url: string; count(): Promise<number>; stop(): void }> {
  const child: ChildProcess = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (b: Buffer) => resolve(Number(String(b).trim())));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/hook`,
    count: async () => Number(await (await fetch(base)).text()),
    stop: () => child.kill(),
  };
}

/**
 * Hook dispatch into a local receiver: `hooks × events` deliveries are written through HooksService.emit (the outbox),
 * then one dispatchDue() claims, signs, POSTs and records them all. Prints deliveries/s for each scenario.
 */
export default async function hooksDispatchBench(): Promise<void> {
  const pg = await benchDatabase();
  const receiver = await startReceiver();
  try {
    const config = loadConfig({
      ...benchEnv(),
      LOG_LEVEL: 'silent',
      DATABASE_URL: pg.url,
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      ALLOW_LOCAL_URLS: 'true',
      WORKERS_ENABLED: 'false',
    });
    const app = await NestFactory.create(AppModule.forRoot(config, pg.url), { bodyParser: false, logger: ['error'] });
    await app.init();
    const db = app.get(DataSource);
    const hooks = app.get(HooksService);
    const dispatcher = app.get(HookDispatcher);
    const tenants = app.get(TenantsService);

    for (const [hookCount, events] of [
      [10, 2000],
      [1, 5000],
    ] as const) {
      const tenant = await tenants.create(`bench ${hookCount}`);
      for (let h = 0; h < hookCount; h++) await hooks.create(tenant.id, { url: `${receiver.url}?h=${h}`, events: ['process.succeeded'] });
      const total = hookCount * events;
      const before = await receiver.count();

      const e0 = performance.now();
      for (let i = 0; i < events; i += EVENTS_PER_TX) {
        await db.transaction(async (m) => {
          for (let j = i; j < Math.min(i + EVENTS_PER_TX, events); j++) {
            await hooks.emit(m, { tenantId: tenant.id, type: 'process.succeeded', data: { process_id: `PRC${j}`, result: { approved: true, score: 0.97 } } });
          }
        });
      }
      const emitMs = performance.now() - e0;

      const d0 = performance.now();
      const sent = await dispatcher.dispatchDue();
      const dispatchMs = performance.now() - d0;

      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM hook_deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant.id]);
      const received = (await receiver.count()) - before;
      if (n !== total || received !== total || sent !== total) {
        throw new Error(`expected ${total} deliveries, got succeeded=${n} received=${received} sent=${sent}`);
      }
      console.log(
        `${hookCount} hook(s) × ${events} events = ${total} deliveries: emit ${Math.round((events / emitMs) * 1000)} events/s; ` +
          `dispatch ${(dispatchMs / 1000).toFixed(2)} s → ${Math.round((total / dispatchMs) * 1000)} deliveries/s`,
      );
    }
    await app.close();
  } finally {
    receiver.stop();
    await pg.stop();
  }
}
