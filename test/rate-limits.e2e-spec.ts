import { FakeClock } from './support/fake-clock.js';
import { ADMIN_TOKEN, createTestApp, TestApp } from './support/test-app.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const env = { RATE_LIMIT_IP_PER_SECOND: '1', RATE_LIMIT_IP_BURST: '4', RATE_LIMIT_PER_SECOND: '50', RATE_LIMIT_BURST: '100' };

describe('Rate limits shared by two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  // One clock for both instances: time moves only when the test moves it, so refills are exact.
  const clock = new FakeClock();

  beforeAll(async () => {
    a = await createTestApp({ env, clock });
    b = await createTestApp({ env, clock, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it("a burst over the tenant's limit from both instances is 429 RATE_LIMITED with Retry-After and RateLimit-* headers", async () => {
    const { tenantId, apiKey } = await a.newTenant();
    const patched = await a.http.patch(`/v1/admin/tenants/${tenantId}`).set(admin).send({ rate_limit_per_second: 2, rate_limit_burst: 6 }).expect(200);
    expect(patched.body).toMatchObject({ rate_limit_per_second: 2, rate_limit_burst: 6 });
    const get = (t: TestApp) => t.http.get('/v1/whatsapp/numbers').set('X-API-Key', apiKey);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get(a), await get(b));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    expect(answers[0].headers).toMatchObject({ 'ratelimit-limit': '6', 'ratelimit-remaining': '5' });
    expect(answers[5].headers).toMatchObject({ 'ratelimit-limit': '6', 'ratelimit-remaining': '0', 'ratelimit-reset': '3' });
    const limited = answers[6];
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(limited.headers).toMatchObject({ 'retry-after': '1', 'ratelimit-limit': '6', 'ratelimit-remaining': '0', 'ratelimit-reset': '3' });
    // Half a second refills one token: one more request passes, on either instance, and the next does not.
    clock.advance(500);
    await get(b).expect(200);
    await get(a).expect(429);
    // Back to the defaults (50/s, bursts of 100).
    await a.http.patch(`/v1/admin/tenants/${tenantId}`).set(admin).send({ rate_limit_per_second: null, rate_limit_burst: null }).expect(200);
    clock.advance(10_000);
    expect((await get(a).expect(200)).headers['ratelimit-limit']).toBe('100');
  });

  it('limits the webhook handshake and bad API keys per client address, across instances; never the signed webhook POSTs', async () => {
    clock.advance(60_000);
    const handshake = (t: TestApp) => t.http.get('/v1/whatsapp/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await handshake(a)).status, (await handshake(b)).status);
    expect(statuses).toEqual([403, 403, 403, 403, 429, 429]);
    const limited = await handshake(a).expect(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    // Unknown keys spend from the same address's bucket.
    expect((await a.http.get('/v1/whatsapp/numbers').set('X-API-Key', 'tgk_guess')).status).toBe(429);
    // Webhook calls from Meta and BSPs are verified by their signature, never rate-limited.
    for (let i = 0; i < 10; i++) {
      const res = await (i % 2 ? a : b).http.post('/v1/whatsapp/webhook').set('content-type', 'application/json').send('{"object":"whatsapp_business_account","entry":[]}');
      expect(res.status).not.toBe(429);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    clock.advance(1000);
    await handshake(b).expect(403);
  });

  it('refuses a bad override', async () => {
    const { tenantId } = await a.newTenant('Other');
    expect((await a.http.patch(`/v1/admin/tenants/${tenantId}`).set(admin).send({ rate_limit_per_second: 0 })).status).toBe(400);
    expect((await a.http.patch(`/v1/admin/tenants/${tenantId}`).set(admin).send({ rate_limit_burst: 'lots' })).status).toBe(400);
  });
});
