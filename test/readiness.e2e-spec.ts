import { jest } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeGraph } from './fakes/fake-graph.js';
import { spawnBuiltService, type ServiceProcess } from './support/built-service.js';
import { CLOUD, cloudLineBody } from './support/cloud-line.js';
import { startOwnPostgres, type OwnPostgres } from './support/own-postgres.js';
import { ADMIN_TOKEN, TEST_SECRETS_KEY } from './support/test-app.js';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A text message from `from` as Meta posts it, signed with the line's app secret. */
function signedText(from: string, text: string): { raw: string; headers: Record<string, string> } {
  const raw = JSON.stringify(FakeGraph.textMessage({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, wabaId: CLOUD.wabaId, from, text }));
  return { raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': FakeGraph.signBody(CLOUD.appSecret, raw) } };
}

/**
 * Readiness, shutdown and a database that goes away, against the built service on a PostgreSQL of the test's own
 * (so it can be stopped): what a load balancer and Meta's webhook sender see.
 */
describe('Readiness and database outages (built service)', () => {
  jest.setTimeout(180_000);
  let db: OwnPostgres;
  let fake: FakeGraph;
  let filesDir: string;
  let service: ServiceProcess | null = null;
  let apiKey: string;

  const start = async (env: Record<string, string> = {}) =>
    spawnBuiltService({
      DATABASE_URL: db.url,
      ADMIN_TOKEN,
      SECRETS_KEY: TEST_SECRETS_KEY,
      ALLOW_LOCAL_URLS: 'true',
      FILES_DIR: filesDir,
      GRAPH_API_BASE_URL: fake.baseUrl,
      GRAPH_API_VERSION: 'v23.0',
      ...env,
    });

  beforeAll(async () => {
    db = await startOwnPostgres();
    fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: CLOUD.accessToken });
    fake.addPhoneNumber({ id: CLOUD.phoneNumberId, phoneNumber: CLOUD.phoneNumber, accessToken: CLOUD.accessToken });
    filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
  });

  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await db.destroy();
    await fake.close();
    rmSync(filesDir, { recursive: true, force: true });
  });

  it('answers 503 on /health/ready while it migrates a fresh database, then 200', async () => {
    service = await start();
    const seen: Array<{ status: number; code?: string; live?: number }> = [];
    for (let i = 0; i < 600; i++) {
      const ready = await fetch(`${service.url}/health/ready`).then(
        async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }),
        () => null,
      );
      if (ready) {
        // The holding server hands the port to the app between these two calls at most once.
        const live = await fetch(`${service.url}/health`).then(
          (r) => r.status,
          () => undefined,
        );
        seen.push({ status: ready.status, code: ready.body.code, live });
        if (ready.status === 200) break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const starting = seen.filter((s) => s.status === 503);
    expect(starting.length).toBeGreaterThan(0);
    // While starting: readiness 503 STARTING, liveness 200 (a probe must not kill it mid-migration).
    expect(starting.every((s) => s.code === 'STARTING')).toBe(true);
    expect(starting[0]!.live).toBe(200);
    expect(seen.at(-1)!.status).toBe(200);

    const tenant = await service.request('POST', '/v1/admin/tenants', { body: { name: 'Acme' }, headers: admin });
    const key = await service.request('POST', `/v1/admin/tenants/${tenant.body.id}/api-keys`, { body: { name: 'k' }, headers: admin });
    apiKey = key.body.key;
    const line = await service.request('POST', '/v1/whatsapp/numbers', {
      headers: { 'x-api-key': apiKey },
      body: cloudLineBody(),
    });
    expect(line.status).toBe(201);
  });

  it('while the database is away: readiness 503, webhooks and API calls 503 with Retry-After within 10 s; it reconnects by itself', async () => {
    const svc = service!;
    const before = signedText('573001110001', 'before');
    expect((await svc.request('POST', '/v1/whatsapp/webhook', { raw: before.raw, headers: before.headers })).status).toBe(200);

    await db.stop();
    const t0 = Date.now();
    const ready = await svc.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'unavailable', database: 'down' });

    const during = signedText('573001110002', 'during');
    const webhook = await svc.request('POST', '/v1/whatsapp/webhook', { raw: during.raw, headers: during.headers });
    expect(webhook.status).toBe(503);
    expect(webhook.body.code).toBe('DATABASE_UNAVAILABLE');
    expect(webhook.headers.get('retry-after')).toBe('5');
    const api = await svc.request('GET', '/v1/whatsapp/numbers', { headers: { 'x-api-key': apiKey } });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('5');
    expect(Date.now() - t0).toBeLessThan(10_000);

    await db.start();
    const deadline = Date.now() + 20_000;
    let again = 0;
    while (Date.now() < deadline) {
      again = (await svc.request('POST', '/v1/whatsapp/webhook', { raw: during.raw, headers: during.headers })).status;
      if (again === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(again).toBe(200);
    expect((await svc.request('GET', '/health/ready')).status).toBe(200);
    expect((await svc.request('GET', '/v1/whatsapp/numbers', { headers: { 'x-api-key': apiKey } })).status).toBe(200);
    expect(svc.output()).not.toContain('unhandled error');
  });

  /** Opens a webhook call and sends all but its last byte: a request in flight. */
  const halfSent = (svc: ServiceProcess, raw: string, headers: Record<string, string>) =>
    new Promise<{ socket: Socket; response: Promise<string> }>((resolve) => {
      const socket = connect(svc.port, '127.0.0.1', () => {
        const head =
          `POST /v1/whatsapp/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(raw)}\r\n` +
          Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('') +
          '\r\n';
        socket.write(head + raw.slice(0, -1));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        const response = new Promise<string>((done) => socket.on('close', () => done(text)));
        resolve({ socket, response });
      });
    });

  it('on SIGTERM it stops accepting, finishes the request in flight and exits', async () => {
    const svc = service!;
    const call = signedText('573001110003', 'in flight');
    const { socket, response } = await halfSent(svc, call.raw, call.headers);
    await new Promise((r) => setTimeout(r, 200));
    svc.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    // No new connections once it stops…
    await expect(fetch(`${svc.url}/health`)).rejects.toThrow();
    expect(svc.child.exitCode).toBeNull();
    // …but the call in flight is answered.
    socket.write(call.raw.slice(-1));
    expect(await response).toMatch(/^HTTP\/1\.1 200/);
    expect(await svc.exited).toBe(0);
  });

  it('a request that does not finish within SHUTDOWN_GRACE_SECONDS is cut and the service exits', async () => {
    const svc = (service = await start({ SHUTDOWN_GRACE_SECONDS: '2' }));
    await svc.waitUntilUp();
    const call = signedText('573001110004', 'never finished');
    const { response } = await halfSent(svc, call.raw, call.headers);
    const t0 = Date.now();
    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(await response).toBe('');
    expect(svc.output()).toContain('requests still running were cut');
  });
});
