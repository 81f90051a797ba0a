import { readFileSync } from 'node:fs';
import { createTestApp, TestApp } from './support/test-app.js';

describe('HTTP conventions', () => {
  let t: TestApp;
  let apiKey: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
    ({ apiKey } = await t.newTenant());
  });
  afterAll(() => t.close());

  it('answers malformed JSON with 400 MALFORMED_BODY in the error shape', async () => {
    const res = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).set('Content-Type', 'application/json').send('{"phone_number":').expect(400);
    expect(res.body).toEqual({ statusCode: 400, code: 'MALFORMED_BODY', message: expect.any(String), requestId: expect.any(String) });
  });

  it('answers oversized bodies with 413', async () => {
    const res = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: 'x'.repeat(5000) }).expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('echoes the caller\'s request id in the header and in errors', async () => {
    const res = await t.http.get('/v1/whatsapp/numbers/nope').set('X-API-Key', apiKey).set('X-Request-Id', 'abc-123').expect(404);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.body.requestId).toBe('abc-123');
  });

  it('unknown routes are a 404 in the error shape', async () => {
    const res = await t.http.get('/v1/nothing-here').expect(404);
    expect(res.body.code).toBe('ROUTE_NOT_FOUND');
  });

  it('rejects bad pagination parameters', async () => {
    const res = await t.http.get('/v1/whatsapp/numbers?limit=500').set('X-API-Key', apiKey).expect(400);
    expect(res.body.details[0].field).toBe('limit');
    await t.http.get('/v1/whatsapp/numbers?limit=abc').set('X-API-Key', apiKey).expect(400);
  });

  it('answers values PostgreSQL cannot store (a NUL byte) with 400, not 500', async () => {
    const res = await t.http.get('/v1/whatsapp/numbers/WAN%00x').set('X-API-Key', apiKey);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_INPUT');
    const body = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: '+14155550177', provider: 'bsp', api_key: 'a\u0000b', base_url: 'https://bsp.example.com' });
    expect(body.status).toBe(400);
  });

  it('reports health with the database up', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.details.database.status).toBe('up');
  });

  it('serves Swagger UI, and the committed openapi.json matches the running app', async () => {
    await t.http.get('/docs').expect(200).expect('Content-Type', /html/);
    const live = await t.http.get('/docs-json').expect(200);
    const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
    expect(live.body).toEqual(committed);
  });
});

describe('webhook hot path', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it.each([
    ['entry is not a list', '{"entry":1}'],
    ['changes is not a list', '{"entry":[{"changes":1}]}'],
    ['messages is not a list', '{"entry":[{"changes":[{"value":{"messages":1}}]}]}'],
  ])('never answers a 5xx when %s', async (_name, raw) => {
    for (const path of ['/v1/whatsapp/webhook', '/v1/whatsapp/webhook/', '/V1/WhatsApp/Webhook']) {
      const res = await t.http.post(path).set('Content-Type', 'application/json').send(raw);
      expect(res.status).toBeLessThan(500);
    }
  });

  it('answers without X-Powered-By', async () => {
    const res = await t.http.post('/v1/whatsapp/webhook').set('Content-Type', 'application/json').send('{}');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
