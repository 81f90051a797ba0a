import { Webhook } from 'standardwebhooks';
import { HookDispatcher, LEASE_MS, PER_HOOK_IN_FLIGHT } from '../src/modules/hooks/hook-dispatcher.js';
import { HooksService } from '../src/modules/hooks/hooks.service.js';
import { HostResolver } from '../src/common/http/url-guard.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { createTestApp, TestApp } from './support/test-app.js';

const SEC = 1000;
const HOUR = 3600 * SEC;

type Headers = Record<string, string>;
const hdrs = (h: Record<string, unknown>): Headers => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));

async function emit(t: TestApp, tenantId: string, type: string, data: object = {}, flowId?: string) {
  return t.db.transaction((m) => t.app.get(HooksService).emit(m, { tenantId, type, data, flowId }));
}

async function delivery(t: TestApp, id: string) {
  const [row] = await t.db.query(`SELECT * FROM hook_deliveries WHERE id = $1`, [id]);
  return row as { status: string; next_attempt_at: Date | null; attempt_count: number; event_id: string; hook_id: string };
}

async function onlyDelivery(t: TestApp, hookId: string) {
  const rows = await t.db.query(`SELECT id FROM hook_deliveries WHERE hook_id = $1`, [hookId]);
  expect(rows).toHaveLength(1);
  return rows[0].id as string;
}

describe('hooks', () => {
  let t: TestApp;
  let dispatcher: HookDispatcher;
  let receivers: HookReceiver[] = [];
  const receiver = async () => {
    const r = await new HookReceiver().start();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    dispatcher = t.app.get(HookDispatcher);
  });
  afterEach(async () => {
    await Promise.all(receivers.map((r) => r.stop()));
    receivers = [];
    await t.db.query('DELETE FROM hooks');
    t.app.get(HooksService).subscriptionsChanged();
  });
  afterAll(() => t.close());

  const create = async (apiKey: string, body: object) => {
    const res = await t.http.post('/v1/hooks').set('X-API-Key', apiKey).send(body).expect(201);
    return res.body as { id: string; secret: string; url: string };
  };

  describe('API', () => {
    it('creates, reads, lists, updates and deletes hooks; the secret is shown only at creation', async () => {
      const { apiKey } = await t.newTenant();
      const created = await create(apiKey, { url: 'https://api.example.com/hooks', events: ['process.succeeded'] });
      expect(created).toMatchObject({
        id: expect.stringMatching(/^HOK[0-9A-Z]{26}$/),
        url: 'https://api.example.com/hooks',
        events: ['process.succeeded'],
        flow_ids: [],
        active: true,
        disabled_reason: null,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
      });
      const one = await t.http.get(`/v1/hooks/${created.id}`).set('X-API-Key', apiKey).expect(200);
      expect(one.body.secret).toBeUndefined();
      expect(JSON.stringify(one.body)).not.toContain(created.secret.slice(6));

      const form = await t.http
        .post('/v1/hooks')
        .set('X-API-Key', apiKey)
        .type('form')
        .send('url=https://b.example.com/h&events=process.started,process.failed&events=message.status&flow_ids=FLW1&flow_ids=FLW2&active=false')
        .expect(201);
      expect(form.body).toMatchObject({
        events: ['process.started', 'process.failed', 'message.status'],
        flow_ids: ['FLW1', 'FLW2'],
        active: false,
      });

      const page = await t.http.get('/v1/hooks?limit=1').set('X-API-Key', apiKey).expect(200);
      expect(page.body.data.map((h: { id: string }) => h.id)).toEqual([form.body.id]);
      expect(JSON.stringify(page.body)).not.toContain('whsec_');
      const next = await t.http.get(`/v1/hooks?limit=1&cursor=${page.body.next_cursor}`).set('X-API-Key', apiKey).expect(200);
      expect(next.body.data.map((h: { id: string }) => h.id)).toEqual([created.id]);
      expect(next.body.next_cursor).toBeNull();

      const patched = await t.http
        .patch(`/v1/hooks/${created.id}`)
        .set('X-API-Key', apiKey)
        .send({ events: ['process.failed', 'signature.completed'], flow_ids: ['FLW9'], active: false })
        .expect(200);
      expect(patched.body).toMatchObject({ events: ['process.failed', 'signature.completed'], flow_ids: ['FLW9'], active: false });
      expect(patched.body.secret).toBeUndefined();

      await t.http.delete(`/v1/hooks/${created.id}`).set('X-API-Key', apiKey).expect(204);
      await t.http.get(`/v1/hooks/${created.id}`).set('X-API-Key', apiKey).expect(404);
    });

    it.each([
      ['a malformed url', { url: 'not a url', events: ['process.started'] }, 'url'],
      ['a non-https url', { url: 'http://api.example.com/h', events: ['process.started'] }, 'url'],
      ['an ftp url', { url: 'ftp://api.example.com/h', events: ['process.started'] }, 'url'],
      ['empty events', { url: 'https://api.example.com/h', events: [] }, 'events'],
      ['missing events', { url: 'https://api.example.com/h' }, 'events'],
      ['an unknown event', { url: 'https://api.example.com/h', events: ['process.started', 'process.exploded'] }, 'events'],
      ['ping as a subscription', { url: 'https://api.example.com/h', events: ['ping'] }, 'events'],
      ['non-string flow ids', { url: 'https://api.example.com/h', events: ['process.started'], flow_ids: [1, 2] }, 'flow_ids'],
      ['a non-boolean active', { url: 'https://api.example.com/h', events: ['process.started'], active: 'maybe' }, 'active'],
      ['an unknown field', { url: 'https://api.example.com/h', events: ['process.started'], color: 'red' }, 'color'],
    ])('rejects %s with 400 naming the field', async (_name, body, field) => {
      const { apiKey, tenantId } = await t.newTenant();
      const res = await t.http.post('/v1/hooks').set('X-API-Key', apiKey).send(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
      expect((await t.db.query('SELECT count(*)::int AS n FROM hooks WHERE tenant_id = $1', [tenantId]))[0].n).toBe(0);
    });

    it('rejects an empty form events field and bad updates', async () => {
      const { apiKey } = await t.newTenant();
      const res = await t.http.post('/v1/hooks').set('X-API-Key', apiKey).type('form').send('url=https://a.example.com/h&events=').expect(400);
      expect(res.body.details[0].field).toBe('events');
      const hook = await create(apiKey, { url: 'https://a.example.com/h', events: ['process.started'] });
      const bad = await t.http.patch(`/v1/hooks/${hook.id}`).set('X-API-Key', apiKey).send({ url: 'http://a.example.com/h' }).expect(400);
      expect(bad.body.details[0].field).toBe('url');
      const q = await t.http.get(`/v1/hooks/${hook.id}/deliveries?status=lost`).set('X-API-Key', apiKey).expect(400);
      expect(q.body.details[0].field).toBe('status');
    });

    it("isolates tenants: another tenant's hook and deliveries are 404", async () => {
      const a = await t.newTenant('A');
      const b = await t.newTenant('B');
      const r = await receiver();
      const hook = await create(a.apiKey, { url: r.url, events: ['process.started'] });
      await emit(t, a.tenantId, 'process.started');
      await dispatcher.dispatchDue();
      const deliveryId = await onlyDelivery(t, hook.id);
      await t.db.query(`UPDATE hook_deliveries SET status = 'failed' WHERE id = $1`, [deliveryId]);
      for (const [method, path] of [
        ['get', `/v1/hooks/${hook.id}`],
        ['patch', `/v1/hooks/${hook.id}`],
        ['delete', `/v1/hooks/${hook.id}`],
        ['post', `/v1/hooks/${hook.id}/rotate-secret`],
        ['post', `/v1/hooks/${hook.id}/test`],
        ['get', `/v1/hooks/${hook.id}/deliveries`],
        ['post', `/v1/hooks/deliveries/${deliveryId}/redeliver`],
      ] as const) {
        const res = await t.http[method](path).set('X-API-Key', b.apiKey).send({}).expect(404);
        expect(res.body.code).toBe('NOT_FOUND');
      }
      expect((await t.http.get('/v1/hooks').set('X-API-Key', b.apiKey).expect(200)).body.data).toEqual([]);
      await t.http.get(`/v1/hooks/${hook.id}`).set('X-API-Key', a.apiKey).expect(200);
      // An event of tenant B never reaches tenant A's hook.
      expect(await emit(t, b.tenantId, 'process.started')).toBeNull();
    });
  });

  describe('delivery', () => {
    it('POSTs {id, type, created_at, data} signed so that the standardwebhooks library verifies it', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      const hook = await create(apiKey, { url: r.url, events: ['process.succeeded'] });
      const eventId = await emit(t, tenantId, 'process.succeeded', { process_id: 'PRC1', result: { score: 0.97 } }, 'FLW1');
      expect(eventId).toMatch(/^EVT[0-9A-Z]{26}$/);
      expect(await dispatcher.dispatchDue()).toBe(1);

      const [req] = await r.waitFor(1);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['webhook-id']).toBe(eventId);
      expect(JSON.parse(req.body)).toEqual({
        id: eventId,
        type: 'process.succeeded',
        created_at: t.clock.now().toISOString(),
        data: { process_id: 'PRC1', result: { score: 0.97 } },
      });
      expect(new Webhook(hook.secret).verify(req.body, hdrs(req.headers))).toEqual(JSON.parse(req.body));
      expect(() => new Webhook(hook.secret).verify(req.body.replace('0.97', '0.99'), hdrs(req.headers))).toThrow();
      const other = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
      expect(() => new Webhook(other).verify(req.body, hdrs(req.headers))).toThrow();

      const log = await t.http.get(`/v1/hooks/${hook.id}/deliveries`).set('X-API-Key', apiKey).expect(200);
      expect(log.body.data).toEqual([
        expect.objectContaining({
          id: expect.stringMatching(/^HKD/),
          hook_id: hook.id,
          event_id: eventId,
          event_type: 'process.succeeded',
          status: 'succeeded',
          next_attempt_at: null,
          delivered_at: t.clock.now().toISOString(),
          attempts: [{ at: t.clock.now().toISOString(), http_status: 200, latency_ms: expect.any(Number), error: null, response_excerpt: 'ok' }],
        }),
      ]);
      expect(await dispatcher.dispatchDue()).toBe(0);
      expect(r.requests).toHaveLength(1);
    });

    it('sends each event only to active hooks subscribed to its type and, when they filter, its flow', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      const all = await create(apiKey, { url: `${r.url}?h=all`, events: ['process.succeeded'] });
      const failed = await create(apiKey, { url: `${r.url}?h=failed`, events: ['process.failed'] });
      const flowA = await create(apiKey, { url: `${r.url}?h=flowA`, events: ['process.succeeded', 'process.failed'], flow_ids: ['FLW_A'] });
      await create(apiKey, { url: `${r.url}?h=off`, events: ['process.succeeded'], active: false });

      await emit(t, tenantId, 'process.succeeded', { n: 1 }, 'FLW_B');
      await emit(t, tenantId, 'process.succeeded', { n: 2 }, 'FLW_A');
      await emit(t, tenantId, 'process.failed', { n: 3 });
      await emit(t, tenantId, 'process.failed', { n: 4 }, 'FLW_A');
      expect(await emit(t, tenantId, 'message.status', { n: 5 })).toBeNull();
      expect((await t.db.query(`SELECT count(*)::int AS n FROM hook_events WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(4);

      expect(await dispatcher.dispatchDue()).toBe(6);
      const got = (h: string) =>
        r.requests
          .filter((q) => q.url.endsWith(`h=${h}`))
          .map((q) => JSON.parse(q.body).data.n)
          .sort();
      expect(got('all')).toEqual([1, 2]);
      expect(got('failed')).toEqual([3, 4]);
      expect(got('flowA')).toEqual([2, 4]);
      expect(got('off')).toEqual([]);
      const byHook = await t.db.query(`SELECT hook_id, count(*)::int AS n FROM hook_deliveries GROUP BY hook_id`);
      expect(Object.fromEntries(byHook.map((x: { hook_id: string; n: number }) => [x.hook_id, x.n]))).toEqual({ [all.id]: 2, [failed.id]: 2, [flowA.id]: 2 });
    });

    it('an emit inside a rolled-back transaction writes nothing', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      await create(apiKey, { url: 'https://api.example.com/h', events: ['process.started'] });
      await expect(
        t.db.transaction(async (m) => {
          expect(await t.app.get(HooksService).emit(m, { tenantId, type: 'process.started', data: {} })).toMatch(/^EVT/);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect((await t.db.query(`SELECT count(*)::int AS n FROM hook_events WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(0);
      expect((await t.db.query(`SELECT count(*)::int AS n FROM hook_deliveries WHERE tenant_id = $1`, [tenantId]))[0].n).toBe(0);
    });

    it('retries on schedule while the receiver is down and delivers once it is up, with the same webhook-id', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      const hook = await create(apiKey, { url: r.url, events: ['process.failed'] });
      await r.stop();
      const eventId = await emit(t, tenantId, 'process.failed', { reason: 'document_mismatch' });
      const id = await onlyDelivery(t, hook.id);
      const start = t.clock.now().getTime();

      expect(await dispatcher.dispatchDue()).toBe(1);
      let d = await delivery(t, id);
      expect(d.status).toBe('pending');
      const firstDelay = d.next_attempt_at!.getTime() - start;
      expect(firstDelay).toBeGreaterThanOrEqual(4.5 * SEC);
      expect(firstDelay).toBeLessThanOrEqual(5.5 * SEC);

      t.clock.advance(4 * SEC);
      expect(await dispatcher.dispatchDue()).toBe(0);
      t.clock.advance(2 * SEC);
      expect(await dispatcher.dispatchDue()).toBe(1);
      d = await delivery(t, id);
      const secondDelay = d.next_attempt_at!.getTime() - t.clock.now().getTime();
      expect(secondDelay).toBeGreaterThanOrEqual(54 * SEC);
      expect(secondDelay).toBeLessThanOrEqual(66 * SEC);

      // Up again, but answering 503 once, then 200.
      await r.start();
      r.status = 503;
      r.responseBody = 'x'.repeat(2000);
      t.clock.advance(67 * SEC);
      expect(await dispatcher.dispatchDue()).toBe(1);
      d = await delivery(t, id);
      expect(d.status).toBe('pending');
      const thirdDelay = d.next_attempt_at!.getTime() - t.clock.now().getTime();
      expect(thirdDelay).toBeGreaterThanOrEqual(270 * SEC);
      expect(thirdDelay).toBeLessThanOrEqual(330 * SEC);

      r.status = 200;
      r.responseBody = 'thanks';
      t.clock.advance(331 * SEC);
      expect(await dispatcher.dispatchDue()).toBe(1);
      expect((await delivery(t, id)).status).toBe('succeeded');
      expect(r.requests.map((q) => q.headers['webhook-id'])).toEqual([eventId, eventId]);
      expect(r.requests[0].body).toBe(r.requests[1].body);

      const log = await t.http.get(`/v1/hooks/${hook.id}/deliveries`).set('X-API-Key', apiKey).expect(200);
      const attempts = log.body.data[0].attempts;
      expect(attempts.map((a: { http_status: number | null }) => a.http_status)).toEqual([null, null, 503, 200]);
      expect(attempts[0].error).toMatch(/^CONNECTION_FAILED/);
      expect(attempts[2]).toMatchObject({ error: 'HTTP_503', response_excerpt: 'x'.repeat(500) });
      expect(attempts[3]).toMatchObject({ error: null, response_excerpt: 'thanks' });
    });

    it('after 3 days of failures marks the delivery failed and disables the hook; redeliver sends it again', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      r.status = 500;
      const hook = await create(apiKey, { url: r.url, events: ['process.succeeded'] });
      const eventId = await emit(t, tenantId, 'process.succeeded', { process_id: 'PRC9' });
      const id = await onlyDelivery(t, hook.id);
      const start = t.clock.now().getTime();

      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        times.push(t.clock.now().getTime() - start);
        expect(await dispatcher.dispatchDue()).toBe(1);
        const d = await delivery(t, id);
        if (d.status === 'failed') break;
        expect(d.status).toBe('pending');
        t.clock.set(d.next_attempt_at!);
      }
      expect((await delivery(t, id)).status).toBe('failed');
      const gaps = times.slice(1).map((x, i) => x - times[i]);
      const nominal = [5 * SEC, 60 * SEC, 300 * SEC, 1800 * SEC, 2 * HOUR, 5 * HOUR, 10 * HOUR];
      expect(gaps.length).toBeGreaterThanOrEqual(11);
      gaps.slice(0, -1).forEach((g, i) => {
        const n = nominal[Math.min(i, nominal.length - 1)];
        expect(g).toBeGreaterThanOrEqual(n * 0.9 - 1);
        expect(g).toBeLessThanOrEqual(n * 1.1 + 1);
      });
      expect(times[times.length - 1]).toBe(72 * HOUR); // the last try lands on the 3-day mark
      expect(r.requests.length).toBe(times.length);

      const got = await t.http.get(`/v1/hooks/${hook.id}`).set('X-API-Key', apiKey).expect(200);
      expect(got.body.active).toBe(false);
      expect(got.body.disabled_reason).toMatch(/failed for 3 days.*HTTP_500/);
      expect(got.body.disabled_at).toBe(t.clock.now().toISOString());
      expect(await emit(t, tenantId, 'process.succeeded', {})).toBeNull();

      const failedOnly = await t.http.get(`/v1/hooks/${hook.id}/deliveries?status=failed&event=process.succeeded`).set('X-API-Key', apiKey).expect(200);
      expect(failedOnly.body.data.map((x: { id: string }) => x.id)).toEqual([id]);
      expect(failedOnly.body.data[0].attempts).toHaveLength(times.length);
      expect((await t.http.get(`/v1/hooks/${hook.id}/deliveries?status=succeeded`).set('X-API-Key', apiKey).expect(200)).body.data).toEqual([]);

      const inactive = await t.http.post(`/v1/hooks/deliveries/${id}/redeliver`).set('X-API-Key', apiKey).expect(409);
      expect(inactive.body.code).toBe('HOOK_INACTIVE');
      const reenabled = await t.http.patch(`/v1/hooks/${hook.id}`).set('X-API-Key', apiKey).send({ active: true }).expect(200);
      expect(reenabled.body).toMatchObject({ active: true, disabled_reason: null, disabled_at: null });

      r.status = 200;
      const again = await t.http.post(`/v1/hooks/deliveries/${id}/redeliver`).set('X-API-Key', apiKey).expect(202);
      expect(again.body).toMatchObject({ id, status: 'pending', next_attempt_at: t.clock.now().toISOString() });
      const busy = await t.http.post(`/v1/hooks/deliveries/${id}/redeliver`).set('X-API-Key', apiKey).expect(409);
      expect(busy.body.code).toBe('DELIVERY_IN_PROGRESS');
      expect(await dispatcher.dispatchDue()).toBe(1);
      expect((await delivery(t, id)).status).toBe('succeeded');
      expect(r.requests[r.requests.length - 1].headers['webhook-id']).toBe(eventId);
    });

    it('signs with both secrets for 24 hours after a rotation, then only the new one', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      const hook = await create(apiKey, { url: r.url, events: ['outbound.status'] });
      const rotated = await t.http.post(`/v1/hooks/${hook.id}/rotate-secret`).set('X-API-Key', apiKey).expect(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(hook.secret);
      expect(rotated.body.previous_secret_expires_at).toBe(new Date(t.clock.now().getTime() + 24 * HOUR).toISOString());

      await emit(t, tenantId, 'outbound.status', { n: 1 });
      t.clock.advance(23 * HOUR);
      await emit(t, tenantId, 'outbound.status', { n: 2 });
      await dispatcher.dispatchDue();
      t.clock.advance(HOUR + SEC);
      await emit(t, tenantId, 'outbound.status', { n: 3 });
      await dispatcher.dispatchDue();

      const [first, second, third] = await r.waitFor(3);
      for (const req of [first, second]) {
        expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
        expect(new Webhook(hook.secret).verify(req.body, hdrs(req.headers))).toBeTruthy();
        expect(new Webhook(rotated.body.secret).verify(req.body, hdrs(req.headers))).toBeTruthy();
      }
      expect(String(third.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(new Webhook(rotated.body.secret).verify(third.body, hdrs(third.headers))).toBeTruthy();
      expect(() => new Webhook(hook.secret).verify(third.body, hdrs(third.headers))).toThrow();
      expect((await t.http.get(`/v1/hooks/${hook.id}`).set('X-API-Key', apiKey).expect(200)).body.previous_secret_expires_at).toBeNull();
    });

    it('test sends a ping to that hook only, whatever its events', async () => {
      const { apiKey } = await t.newTenant();
      const r = await receiver();
      const hook = await create(apiKey, { url: `${r.url}?h=1`, events: ['signature.completed'] });
      await create(apiKey, { url: `${r.url}?h=2`, events: ['signature.completed'] });
      const res = await t.http.post(`/v1/hooks/${hook.id}/test`).set('X-API-Key', apiKey).expect(202);
      expect(res.body).toMatchObject({ hook_id: hook.id, event_type: 'ping', status: 'pending', attempts: [] });
      expect(await dispatcher.dispatchDue()).toBe(1);
      const [req] = await r.waitFor(1);
      expect(req.url).toMatch(/h=1$/);
      expect(JSON.parse(req.body)).toMatchObject({ id: res.body.event_id, type: 'ping', data: { hook_id: hook.id } });
      expect(new Webhook(hook.secret).verify(req.body, hdrs(req.headers))).toBeTruthy();
      const pings = await t.http.get(`/v1/hooks/${hook.id}/deliveries?event=ping`).set('X-API-Key', apiKey).expect(200);
      expect(pings.body.data).toHaveLength(1);
      expect(pings.body.data[0].status).toBe('succeeded');
    });

    it('a slow receiver does not delay another hook', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const slow = await receiver();
      slow.delayMs = 3000;
      const fast = await receiver();
      await create(apiKey, { url: slow.url, events: ['process.started'] });
      const slowCount = PER_HOOK_IN_FLIGHT + 4;
      for (let i = 0; i < slowCount; i++) await emit(t, tenantId, 'process.started', { i });
      t.clock.advance(SEC);
      // Subscribed after, so its deliveries are queued behind all the slow hook's ones.
      await create(apiKey, { url: fast.url, events: ['process.started'] });
      await t.db.query(`UPDATE hooks SET events = '{process.succeeded}' WHERE url = $1`, [slow.url]);
      t.app.get(HooksService).subscriptionsChanged();
      for (let i = 0; i < 3; i++) await emit(t, tenantId, 'process.started', { i });

      const t0 = Date.now();
      const run = dispatcher.dispatchDue();
      await fast.waitFor(3, 2500);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(slow.requests.length).toBeLessThanOrEqual(PER_HOOK_IN_FLIGHT);
      expect(await run).toBe(slowCount + 3);
      expect(slow.requests).toHaveLength(slowCount);
      const states = await t.db.query(`SELECT status, count(*)::int AS n FROM hook_deliveries WHERE tenant_id = $1 GROUP BY status`, [tenantId]);
      expect(states).toEqual([{ status: 'succeeded', n: slowCount + 3 }]);
    }, 20000);

    it('a crash between claim and send loses nothing: the lease runs out and the delivery goes out', async () => {
      const { apiKey, tenantId } = await t.newTenant();
      const r = await receiver();
      const hook = await create(apiKey, { url: r.url, events: ['process.started'] });
      await emit(t, tenantId, 'process.started', { n: 1 });
      const id = await onlyDelivery(t, hook.id);

      const claimed = await dispatcher.claim(10); // ... and the process dies before sending
      expect(claimed.map((c) => c.id)).toEqual([id]);
      expect((await delivery(t, id)).status).toBe('sending');
      expect(await dispatcher.dispatchDue()).toBe(0);
      t.clock.advance(LEASE_MS - SEC);
      expect(await dispatcher.dispatchDue()).toBe(0);
      expect(r.requests).toHaveLength(0);

      t.clock.advance(2 * SEC);
      expect(await dispatcher.dispatchDue()).toBe(1);
      expect(r.requests).toHaveLength(1);
      const d = await delivery(t, id);
      expect(d).toMatchObject({ status: 'succeeded', attempt_count: 1 });
    });
  });
});

describe('hooks SSRF rules (local URLs not allowed)', () => {
  let t: TestApp;
  let apiKey: string;
  let tenantId: string;
  const dns: Record<string, string[]> = {
    'hooks.internal.example': ['10.1.2.3'],
    'metadata.example': ['169.254.169.254'],
    'mixed.example': ['93.184.216.34', '192.168.0.10'],
  };
  class MapResolver extends HostResolver {
    async resolve(host: string): Promise<string[]> {
      const found = dns[host];
      if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return found;
    }
  }

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false', ALLOW_LOCAL_URLS: 'false' }, overrides: [{ provide: HostResolver, useValue: new MapResolver() }] });
    ({ apiKey, tenantId } = await t.newTenant());
  });
  afterAll(() => t.close());

  it.each([
    'https://10.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://192.168.1.20/hook',
    'https://[::1]/hook',
    'https://[fd00::1]/hook',
    'http://127.0.0.1:8080/hook',
    'http://localhost:8080/hook',
  ])('refuses %s at creation', async (url) => {
    const res = await t.http
      .post('/v1/hooks')
      .set('X-API-Key', apiKey)
      .send({ url, events: ['process.started'] })
      .expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['url']);
  });

  it.each([
    ['a host name resolving to a private address', 'https://hooks.internal.example/hook', '10.1.2.3'],
    ['a host name resolving to the metadata address', 'https://metadata.example/hook', '169.254.169.254'],
    ['a host name with one private address among public ones', 'https://mixed.example/hook', '192.168.0.10'],
    ['10.0.0.1 stored before the rule', 'https://10.0.0.1/hook', '10.0.0.1'],
    ['169.254.169.254 stored before the rule', 'https://169.254.169.254/latest/meta-data', '169.254.169.254'],
  ])('refuses at delivery %s, and retries later', async (_name, url, address) => {
    const created = await t.http
      .post('/v1/hooks')
      .set('X-API-Key', apiKey)
      .send({ url: 'https://hooks.example.com/h', events: ['process.started'] })
      .expect(201);
    await t.db.query(`UPDATE hooks SET url = $2 WHERE id = $1`, [created.body.id, url]);
    await emit(t, tenantId, 'process.started');
    expect(await t.app.get(HookDispatcher).dispatchDue()).toBe(1);
    const log = await t.http.get(`/v1/hooks/${created.body.id}/deliveries`).set('X-API-Key', apiKey).expect(200);
    expect(log.body.data[0].status).toBe('pending');
    expect(log.body.data[0].attempts).toEqual([expect.objectContaining({ http_status: null, error: expect.stringMatching(/^SSRF_BLOCKED: /) })]);
    expect(log.body.data[0].attempts[0].error).toContain(address);
    await t.http.delete(`/v1/hooks/${created.body.id}`).set('X-API-Key', apiKey).expect(204);
  });

  it('accepts a public https host name at creation', async () => {
    await t.http
      .post('/v1/hooks')
      .set('X-API-Key', apiKey)
      .send({ url: 'https://hooks.internal.example/hook', events: ['process.started'] })
      .expect(201);
  });
});

describe('hooks background dispatcher (workers on)', () => {
  let t: TestApp;
  let r: HookReceiver;
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'true' } });
    r = await new HookReceiver().start();
  });
  afterAll(async () => {
    await t.close();
    await r.stop();
  });

  it('delivers without anyone calling dispatchDue, and retries when the clock reaches the next try', async () => {
    const { apiKey, tenantId } = await t.newTenant();
    const hook = (
      await t.http
        .post('/v1/hooks')
        .set('X-API-Key', apiKey)
        .send({ url: r.url, events: ['message.status'] })
        .expect(201)
    ).body;
    r.status = 500;
    const eventId = await emit(t, tenantId, 'message.status', { status: 'read' });
    await r.waitFor(1, 5000);
    r.status = 200;
    t.clock.advance(6 * SEC);
    await r.waitFor(2, 5000);
    expect(r.requests.map((q) => q.headers['webhook-id'])).toEqual([eventId, eventId]);
    const until = Date.now() + 5000;
    let status = '';
    while (Date.now() < until && status !== 'succeeded') {
      status = (await t.db.query(`SELECT status FROM hook_deliveries WHERE hook_id = $1`, [hook.id]))[0].status;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(status).toBe('succeeded');
  });
});
