import { jest } from '@jest/globals';
import pg from 'pg';
import { WhatsappLine } from '../src/modules/tenants/entities/whatsapp-line.entity.js';
import { WebhookEventsService } from '../src/modules/webhooks/webhook-events.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { CLOUD, cloudSetup, type CloudSetup, cloudLineBody } from './support/cloud-line.js';
import { ADMIN_TOKEN } from './support/test-app.js';

const NEW_NUMBER = '109999999999991';
const count = async (s: CloudSetup) => (await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events`))[0].n as number;
const refused = async (s: CloudSetup, labels: string) => {
  const text = (await s.t.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200)).text;
  return Number(new RegExp(`^testigo_webhook_calls_refused_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
};

describe('webhook ingress stores only calls a secret we hold verifies', () => {
  let s: CloudSetup;
  beforeAll(async () => {
    s = await cloudSetup();
  });
  afterAll(() => s.close());

  const post = (body: object | string, secret?: string, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return s.t.http
      .post('/v1/whatsapp/webhook')
      .set({ 'content-type': 'application/json', ...(secret ? { 'x-hub-signature-256': FakeGraph.signBody(secret, raw) } : {}), ...headers })
      .send(raw);
  };
  const known = (from = '573009991001') => FakeGraph.textMessage({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from, text: 'hola' });
  const unknown = (wabaId = CLOUD.wabaId) => FakeGraph.textMessage({ phoneNumberId: NEW_NUMBER, displayPhone: '573001239999', from: '573009991002', text: 'hola', wabaId });

  it.each([
    ['no signature, unknown number', () => unknown('555000000000'), undefined, {}, 'no_signature'],
    ['no signature, known line', () => known(), undefined, {}, 'no_signature'],
    ['a garbage signature, known line', () => known(), undefined, { 'x-hub-signature-256': 'sha256=nothex' }, 'no_signature'],
    ['a wrong secret, known line', () => known(), 'not-the-secret', {}, 'bad_signature'],
    ['a wrong secret, a new number of a known WABA', () => unknown(), 'not-the-secret', {}, 'bad_signature'],
    ['any secret, a number and WABA nobody registered', () => unknown('555000000000'), 'any-secret', {}, 'unknown_number'],
  ])('%s: 401, nothing stored, counted', async (_, body, secret, headers, reason) => {
    const before = await count(s);
    const counted = await refused(s, `route="cloud_api",reason="${reason}"`);
    const res = await post(body(), secret, headers).expect(401);
    expect(res.body.code).toBe('INVALID_SIGNATURE');
    expect(await count(s)).toBe(before);
    expect(await refused(s, `route="cloud_api",reason="${reason}"`)).toBe(counted + 1);
  });

  it('keeps a call for a new number of a known WABA, signed with its app secret, as unknown_line for its tenant', async () => {
    await post(unknown(), CLOUD.appSecret).expect(200);
    const [row] = await s.t.db.query(`SELECT status, line_id, summary FROM webhook_events ORDER BY id DESC LIMIT 1`);
    expect(row).toEqual({ status: 'unknown_line', line_id: s.lineId, summary: { phone_number_ids: [NEW_NUMBER] } });
    // Never processed: no message recorded.
    await s.t.app.get(WebhookProcessorService).drain();
    expect(await s.t.db.query(`SELECT 1 FROM messages WHERE phone = '+573009991002'`)).toEqual([]);

    const listed = await s.t.http.get('/v1/whatsapp/webhook-events').query({ status: 'unknown_line' }).set('X-API-Key', s.apiKey).expect(200);
    expect(listed.body).toEqual({
      data: [
        {
          id: expect.stringMatching(/^WHE/),
          source: 'cloud_api',
          line_id: s.lineId,
          status: 'unknown_line',
          phone_number_ids: [NEW_NUMBER],
          received_at: expect.any(String),
          attempts: 0,
          error: null,
        },
      ],
      next_cursor: null,
    });
    const other = await s.t.newTenant('Other');
    expect((await s.t.http.get('/v1/whatsapp/webhook-events').query({ status: 'unknown_line' }).set('X-API-Key', other.apiKey).expect(200)).body.data).toEqual([]);
    const bad = await s.t.http.get('/v1/whatsapp/webhook-events').query({ status: 'processed' }).set('X-API-Key', s.apiKey).expect(400);
    expect(bad.body.details[0].field).toBe('status');
    await s.t.http.get('/v1/whatsapp/webhook-events').set('X-API-Key', s.apiKey).expect(400);
  });

  it('still stores a signed call for a known line, and a template status for its WABA', async () => {
    await post(known('573009991003'), CLOUD.appSecret).expect(200);
    const template = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: CLOUD.wabaId,
          changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1, message_template_name: 'x', message_template_language: 'es' } }],
        },
      ],
    };
    await post(template, CLOUD.appSecret).expect(200);
    const rows = await s.t.db.query(`SELECT status, line_id FROM webhook_events ORDER BY id DESC LIMIT 2`);
    expect(rows).toEqual([
      { status: 'pending', line_id: s.lineId },
      { status: 'pending', line_id: s.lineId },
    ]);
  });

  it('looks up at most 1,000 changes of a call, with one query', async () => {
    // 9,000 entries of one change each, just under the 1 MB body limit: 9,000 WABA ids and phone_number_ids.
    const entry = Array.from({ length: 9000 }, (_, i) => ({
      id: String(5 * 10 ** 11 + i),
      changes: [{ field: 'messages', value: { metadata: { phone_number_id: String(10 ** 12 + i) } } }],
    }));
    const many = { object: 'whatsapp_business_account', entry };
    const find = jest.spyOn(s.t.db.getRepository(WhatsappLine), 'find');
    try {
      await post(many, 'some-secret').expect(401);
      expect(find).toHaveBeenCalledTimes(1);
      const where = find.mock.calls[0][0]!.where as unknown as Array<{ phoneNumberId?: { value: string[] }; wabaId?: { value: string[] } }>;
      expect(where[0].phoneNumberId!.value).toHaveLength(1000);
      expect(where[1].wabaId!.value).toHaveLength(1000);
      // The same call again is answered from the cache.
      await post(many, 'some-secret').expect(401);
      expect(find).toHaveBeenCalledTimes(1);
    } finally {
      find.mockRestore();
    }
  });
});

describe('BSP webhook token', () => {
  let s: CloudSetup;
  beforeAll(async () => {
    s = await cloudSetup();
  });
  afterAll(() => s.close());

  it('holds both ways: without app_secret only the token opens, with app_secret only the signature', async () => {
    const create = (extra: object) =>
      s.t.http
        .post('/v1/whatsapp/numbers')
        .set('X-API-Key', s.apiKey)
        .send({ phone_number: `+5730012${Math.floor(Math.random() * 90000 + 10000)}`, provider: 'bsp', api_key: 'k', base_url: 'http://127.0.0.1:9', ...extra })
        .expect(201);
    const open = (await create({})).body;
    const signed = (await create({ app_secret: 'bsp-secret' })).body;
    const raw = JSON.stringify(FakeGraph.textMessage({ phoneNumberId: 'x', displayPhone: '1', from: '573009992001', text: 'hola' }));
    const call = (id: string, token?: string, secret?: string) =>
      s.t.http
        .post(`/v1/whatsapp/webhook/bsp/${id}`)
        .query(token ? { token } : {})
        .set({ 'content-type': 'application/json', ...(secret ? { 'x-hub-signature-256': FakeGraph.signBody(secret, raw) } : {}) })
        .send(raw);
    const before = await count(s);
    await call(open.id).expect(401);
    await call(open.id, 'bwt_wrong').expect(401);
    await call(open.id, undefined, 'bsp-secret').expect(401);
    await call(signed.id, open.webhook_token).expect(401);
    expect(await count(s)).toBe(before);
    await call(open.id, open.webhook_token).expect(200);
    await call(signed.id, undefined, 'bsp-secret').expect(200);
    expect(await count(s)).toBe(before + 2);
    expect(await refused(s, 'route="bsp",reason="bad_token"')).toBe(3);

    // The token is shown once: never by GET, kept only as a hash.
    expect((await s.t.http.get(`/v1/whatsapp/numbers/${open.id}`).set('X-API-Key', s.apiKey).expect(200)).body.webhook_token).toBeUndefined();
    const [{ secrets }] = await s.t.db.query(`SELECT secrets FROM whatsapp_lines WHERE id = $1`, [open.id]);
    expect(JSON.stringify(secrets)).not.toContain(open.webhook_token);
    // An update keeps it; a rotation replaces it.
    await s.t.http.patch(`/v1/whatsapp/numbers/${open.id}`).set('X-API-Key', s.apiKey).send({ throughput_mps: 20 }).expect(200);
    await call(open.id, open.webhook_token).expect(200);
    const rotated = (await s.t.http.post(`/v1/whatsapp/numbers/${open.id}/webhook-token`).set('X-API-Key', s.apiKey).expect(201)).body;
    expect(rotated.webhook_token).toMatch(/^bwt_/);
    await call(open.id, open.webhook_token).expect(401);
    await call(open.id, rotated.webhook_token).expect(200);
    const noToken = await s.t.http.post(`/v1/whatsapp/numbers/${signed.id}/webhook-token`).set('X-API-Key', s.apiKey).expect(400);
    expect(noToken.body.details[0].field).toBe('app_secret');
    const other = await s.t.newTenant('Other');
    await s.t.http.post(`/v1/whatsapp/numbers/${open.id}/webhook-token`).set('X-API-Key', other.apiKey).expect(404);
  });
});

describe('webhook event retention', () => {
  it(`purges finished events older than WEBHOOK_EVENTS_RETENTION_DAYS, never pending ones`, async () => {
    const s = await cloudSetup({ env: { WEBHOOK_EVENTS_RETENTION_DAYS: '7' } });
    try {
      const now = s.t.clock.now().getTime();
      const day = 86_400_000;
      const rows: Array<[string, string, number]> = [
        ['WHEOLDPROCESSED', 'processed', 8],
        ['WHEOLDUNKNOWN', 'unknown_line', 30],
        ['WHEOLDFAILED', 'failed', 8],
        ['WHEOLDPENDING', 'pending', 30],
        ['WHERECENT', 'processed', 6],
      ];
      for (const [id, status, age] of rows) {
        await s.t.db.query(`INSERT INTO webhook_events (id, source, line_id, received_at, raw, status) VALUES ($1, 'cloud_api', $2, $3, '{}', $4)`, [
          id,
          s.lineId,
          new Date(now - age * day),
          status,
        ]);
      }
      expect(await s.t.app.get(WebhookEventsService).purgeExpired()).toBe(3);
      const left = await s.t.db.query(`SELECT id FROM webhook_events ORDER BY id`);
      expect(left.map((r: { id: string }) => r.id)).toEqual(['WHEOLDPENDING', 'WHERECENT']);
    } finally {
      await s.close();
    }
  });
});

describe('webhook ingress in the built service', () => {
  let svc: BuiltService;
  let fake: FakeGraph;
  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: CLOUD.accessToken });
    svc = await startBuiltService({ GRAPH_API_BASE_URL: fake.baseUrl });
  });
  afterAll(async () => {
    await svc.stop();
    await fake.close();
  });

  it('answers unsigned calls 401 and stores nothing, stores signed ones, and warns once per burst without the body', async () => {
    const db = new pg.Client({ connectionString: svc.databaseUrl });
    await db.connect();
    try {
      const body = JSON.stringify(FakeGraph.textMessage({ phoneNumberId: '109999999999992', displayPhone: '1', from: '573009993001', text: 'SECRET-BODY-TEXT' }));
      for (let i = 0; i < 20; i++) {
        const res = await svc.request('POST', '/v1/whatsapp/webhook', {
          raw: body,
          headers: { 'content-type': 'application/json', ...(i % 2 ? { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) } : {}) },
        });
        expect(res.status).toBe(401);
      }
      expect((await db.query(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0].n).toBe(0);
      const warnings = svc
        .output()
        .split('\n')
        .filter((l) => l.includes('refused a webhook call'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('109999999999992');
      expect(svc.output()).not.toContain('SECRET-BODY-TEXT');
      // A signed call for a registered line is stored and processed.
      const { apiKey } = await svc.newTenant();
      fake.addPhoneNumber({ id: CLOUD.phoneNumberId, phoneNumber: CLOUD.phoneNumber, accessToken: CLOUD.accessToken });
      const line = await svc.request('POST', '/v1/whatsapp/numbers', {
        headers: { 'Truora-API-Key': apiKey },
        body: cloudLineBody(),
      });
      expect(line.status).toBe(201);
      const signed = FakeGraph.textMessage({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from: '573009993002', text: 'hola' });
      expect((await FakeGraph.postWebhook(`${svc.url}/v1/whatsapp/webhook`, signed, CLOUD.appSecret)).status).toBe(200);
      for (let i = 0; i < 50; i++) {
        const { rows } = await db.query(`SELECT status FROM webhook_events`);
        if (rows[0]?.status === 'processed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await db.query(`SELECT status, line_id FROM webhook_events`)).rows).toEqual([{ status: 'processed', line_id: line.body.id }]);

      const metrics = await svc.request('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(metrics.body).toMatch(/^testigo_webhook_calls_refused_total\{route="cloud_api",reason="no_signature"\} 10$/m);
      expect(metrics.body).toMatch(/^testigo_webhook_calls_refused_total\{route="cloud_api",reason="unknown_number"\} 10$/m);
    } finally {
      await db.end();
    }
  });
});
