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
    const res = await t.http
      .post('/v1/whatsapp/numbers')
      .set('X-API-Key', apiKey)
      .send({ phone_number: 'x'.repeat(5000) })
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it("echoes the caller's request id in the header and in errors", async () => {
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
    // In a body: a hook's URL (a line's api_key is sealed before it is stored, so a NUL in it reaches no column).
    const body = await t.http
      .post('/v1/hooks')
      .set('X-API-Key', apiKey)
      .send({ url: 'https://hooks.example.com/a\u0000b', events: ['process.succeeded'] });
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

  it('answers bad bodies in the common error shape, with the request id', async () => {
    const bad = await t.http.post('/v1/whatsapp/webhook?x=1').set('Content-Type', 'application/json').set('X-Request-Id', 'req-1').send('{"entry": [');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    expect(bad.headers['x-request-id']).toBe('req-1');
    expect(bad.body).toEqual({ statusCode: 400, code: 'MALFORMED_BODY', message: expect.any(String), requestId: 'req-1' });

    const notObject = await t.http.post('/v1/whatsapp/webhook').set('Content-Type', 'application/json').send('[1]');
    expect(notObject.status).toBe(400);
    expect(notObject.body.code).toBe('MALFORMED_BODY');

    const unsigned = await t.http
      .post('/v1/whatsapp/webhook')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ object: 'whatsapp_business_account', entry: [] }));
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toEqual({ statusCode: 401, code: 'INVALID_SIGNATURE', message: expect.any(String), requestId: expect.stringMatching(/^[\w-]{36}$/) });
    expect(unsigned.headers['x-request-id']).toBe(unsigned.body.requestId);
  });

  /** A POST straight through Node's client (supertest re-encodes Buffers sent as JSON). */
  async function rawPost(headers: Record<string, string>, chunks: Array<string | Buffer>): Promise<{ status: number; body: { code?: string; received?: boolean } }> {
    const { request } = await import('node:http');
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v1/whatsapp/webhook', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        const got: Buffer[] = [];
        res.on('data', (c: Buffer) => got.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(got).toString() || '{}') }));
      });
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });
  }

  it('refuses a body over BODY_LIMIT_BYTES with 413, announced or not', async () => {
    const big = JSON.stringify({ object: 'whatsapp_business_account', pad: 'x'.repeat(1_100_000) });
    const announced = await t.http.post('/v1/whatsapp/webhook').set('Content-Type', 'application/json').send(big);
    expect(announced.status).toBe(413);
    expect(announced.body.code).toBe('PAYLOAD_TOO_LARGE');
    // Chunked, without Content-Length: counted as it arrives.
    const chunked = await rawPost(
      { 'transfer-encoding': 'chunked' },
      Array.from({ length: 12 }, () => 'x'.repeat(100_000)),
    );
    expect(chunked.status).toBe(413);
    expect(chunked.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reads a compressed body, and refuses an unknown encoding with 415', async () => {
    const { gzipSync, deflateSync } = await import('node:zlib');
    const envelope = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
    // Decoded and parsed (a body that is not JSON would be 400): then refused for its missing signature.
    expect(await rawPost({ 'content-encoding': 'gzip' }, [gzipSync(envelope)])).toMatchObject({ status: 401, body: { code: 'INVALID_SIGNATURE' } });
    expect(await rawPost({ 'content-encoding': 'deflate' }, [deflateSync(envelope)])).toMatchObject({ status: 401, body: { code: 'INVALID_SIGNATURE' } });
    // Limited by the decoded size, not the compressed one.
    const bomb = await rawPost({ 'content-encoding': 'gzip' }, [gzipSync(' '.repeat(2_000_000))]);
    expect(bomb.status).toBe(413);
    const broken = await rawPost({ 'content-encoding': 'gzip' }, [Buffer.from('not gzip')]);
    expect(broken).toEqual({ status: 400, body: expect.objectContaining({ code: 'MALFORMED_BODY' }) });
    const unknown = await rawPost({ 'content-encoding': 'zstd' }, ['{}']);
    expect(unknown).toEqual({ status: 415, body: expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE' }) });
  });
});
