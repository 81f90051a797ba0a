import pg from 'pg';
import { HooksService } from '../src/modules/hooks/hooks.service.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/** Waits until `check` holds (a notification crosses PostgreSQL asynchronously), at most 5 s. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met within 5 s');
}

describe('configuration caches across instances', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    b = await createTestApp({ env: { WORKERS_ENABLED: 'false' }, databaseUrl: a.databaseUrl, clock: a.clock });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('announces a clear to every listener, with the name of the cache', async () => {
    const listener = new pg.Client({ connectionString: a.databaseUrl });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload}`));
    await listener.query('LISTEN testigo_cache');
    try {
      const { apiKey } = await a.newTenant();
      await a.http
        .post('/v1/hooks')
        .set('X-API-Key', apiKey)
        .send({ url: 'https://hooks.example.com/h', events: ['process.started'] })
        .expect(201);
      await eventually(async () => heard.includes('testigo_cache:hook-subscriptions'));
    } finally {
      await listener.end();
    }
  });

  it("clears an instance's cache when a notification arrives from elsewhere", async () => {
    const { tenantId } = await a.newTenant();
    const emit = () => b.db.transaction((m) => b.app.get(HooksService).emit(m, { tenantId, type: 'process.started', data: { n: 1 } }));
    // Instance B caches "no hooks" for this tenant; a hook then appears behind its back.
    expect(await emit()).toBeNull();
    await a.db.query(
      `INSERT INTO hooks (id, tenant_id, url, events, flow_ids, active, secret) VALUES ('HOKNOTIFY', $1, 'https://hooks.example.com/n', '{process.started}', '{}', true, 'whsec_x')`,
      [tenantId],
    );
    expect(await emit()).toBeNull();
    // Another instance announces the change: B reads again.
    await a.db.query(`SELECT pg_notify('testigo_cache', 'hook-subscriptions')`);
    await eventually(async () => (await emit()) !== null);
  });

  it("a hook created through one instance gets the other instance's events at once, not after the cache's 10 s", async () => {
    const { apiKey, tenantId } = await a.newTenant();
    const emit = () => b.db.transaction((m) => b.app.get(HooksService).emit(m, { tenantId, type: 'process.started', data: { n: 1 } }));
    // Instance B caches "no hooks" for this tenant.
    expect(await emit()).toBeNull();
    await a.http
      .post('/v1/hooks')
      .set('X-API-Key', apiKey)
      .send({ url: 'https://hooks.example.com/h', events: ['process.started'] })
      .expect(201);
    await eventually(async () => (await emit()) !== null);
    const [{ n }] = await a.db.query(`SELECT count(*)::int AS n FROM hook_deliveries WHERE tenant_id = $1`, [tenantId]);
    expect(n).toBe(1);
  });

  it('a flow archived through one instance no longer starts through the other', async () => {
    const { apiKey } = await a.newTenant();
    const flow = (
      await a.http
        .post('/v1/flows')
        .set('X-API-Key', apiKey)
        .send({
          name: 'f',
          steps: [
            { id: 'q', type: 'question', text: '¿?', validator: { type: 'text' } },
            { id: 'e', type: 'end', outcome: 'succeeded', text: 'ok' },
          ],
        })
        .expect(201)
    ).body;
    const { FlowsService } = await import('../src/modules/flows/flows.service.js');
    const tenantId = flow.tenant_id ?? (await a.db.query(`SELECT tenant_id FROM flows WHERE id = $1`, [flow.id]))[0].tenant_id;
    await b.app.get(FlowsService).assertStartable(tenantId, flow.id);
    await a.http.post(`/v1/flows/${flow.id}/archive`).set('X-API-Key', apiKey).expect(200);
    await eventually(() =>
      b.app
        .get(FlowsService)
        .assertStartable(tenantId, flow.id)
        .then(() => false)
        .catch((err: { code?: string }) => err.code === 'FLOW_ARCHIVED'),
    );
  });
});
