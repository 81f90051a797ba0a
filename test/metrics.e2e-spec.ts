import { jest } from '@jest/globals';
import pg from 'pg';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { ADMIN_TOKEN } from './support/test-app.js';

const METRICS_TOKEN = 'scraper-token-0123456789';

/** GET /metrics of the built service: who may read it, and the figures an operator alerts on. */
describe('GET /metrics (built service)', () => {
  jest.setTimeout(120_000);
  let svc: BuiltService;
  let db: pg.Client;
  const scrape = async (token = METRICS_TOKEN) => (await svc.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } })).body as string;
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    svc = await startBuiltService({ METRICS_TOKEN, WORKERS_ENABLED: 'false' });
    db = new pg.Client({ connectionString: svc.databaseUrl });
    await db.connect();
    // Three webhook events left pending (workers are off here), the oldest (first id, as ids are in time order) 120 s
    // ago, before the first
    // scrape (gauges read from the database are kept 5 s).
    await db.query(
      `INSERT INTO webhook_events (id, source, status, received_at, raw)
       SELECT 'WHE0METRICS' || i, 'cloud_api', 'pending', now() - make_interval(secs => 40 * (4 - i)), '{}' FROM generate_series(1, 3) i`,
    );
  });
  afterAll(async () => {
    await db?.end();
    await svc?.stop();
  });

  it('opens with METRICS_TOKEN or the admin token, and with nothing else', async () => {
    expect((await svc.request('GET', '/metrics')).status).toBe(401);
    const wrong = await svc.request('GET', '/metrics', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('UNAUTHENTICATED');
    expect((await svc.request('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await svc.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    // The metrics token opens nothing else.
    expect((await svc.request('GET', '/v1/admin/tenants', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(401);
  });

  it('lists every documented metric, with route patterns and gauges read from the database', async () => {
    const { tenantId } = await svc.newTenant('Metrics');
    await svc.request('GET', `/v1/admin/tenants/${tenantId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await svc.request('POST', '/v1/whatsapp/webhook', { raw: '{}', headers: { 'content-type': 'application/json' } });
    const text = await scrape();
    for (const name of [
      'testigo_http_request_duration_seconds_bucket',
      'testigo_webhook_inbox_depth',
      'testigo_webhook_inbox_oldest_age_seconds',
      'testigo_send_queue_depth',
      'testigo_sends_total',
      'testigo_provider_errors_total',
      'testigo_hook_backlog',
      'testigo_hook_delivery_failures_total',
      'testigo_processes',
      'testigo_follow_ups_due',
      'nodejs_eventloop_lag_p99_seconds',
      'testigo_db_pool_in_use',
    ]) {
      expect(text).toContain(`# TYPE ${name.replace(/_bucket$/, '')} `);
    }
    // Route patterns, never ids; the raw webhook route by its path.
    expect(text).toMatch(/testigo_http_request_duration_seconds_count\{method="GET",route="\/v1\/admin\/tenants\/:id",status="200"\} 1/);
    expect(text).toMatch(/testigo_http_request_duration_seconds_count\{method="POST",route="\/v1\/whatsapp\/webhook",status="401"\} 1/);
    expect(text).not.toContain(tenantId);
    expect(value(text, 'testigo_webhook_inbox_depth')).toBe(3);
    expect(value(text, 'testigo_webhook_inbox_oldest_age_seconds')).toBeGreaterThanOrEqual(119);
    expect(value(text, 'testigo_hook_backlog')).toBe(0);
    expect(value(text, 'testigo_db_pool_in_use')).toBeGreaterThanOrEqual(0);
  });
});
