import { ADMIN_TOKEN, createTestApp, TestApp } from './support/test-app.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

describe('API keys: scopes, expiry, last use', () => {
  let t: TestApp;
  let tenantId: string;

  const newKey = async (body: Record<string, unknown>) => {
    const res = await t.http
      .post(`/v1/admin/tenants/${tenantId}/api-keys`)
      .set(admin)
      .send({ name: 'k', ...body });
    return Object.assign(res, { expect: (status: number) => (expect(res.status).toBe(status), res) });
  };
  const listed = async (id: string) => (await t.http.get(`/v1/admin/tenants/${tenantId}/api-keys`).set(admin).expect(200)).body.data.find((k: { id: string }) => k.id === id);

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = (await t.newTenant()).tenantId;
  });
  afterAll(() => t.close());

  it('a key without the write scope reads but is refused on POST, PATCH and DELETE with 403 naming the scope', async () => {
    const { body } = (await newKey({ scopes: ['read'] })).expect(201);
    expect(body.scopes).toEqual(['read']);
    await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200);
    const post = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', body.key).send({ phone_number: '+14155550111', provider: 'sandbox' }).expect(403);
    expect(post.body).toMatchObject({ code: 'FORBIDDEN', message: 'This API key lacks the write scope (it has: read)' });
    expect((await t.http.patch('/v1/settings').set('X-API-Key', body.key).send({ fallback_text: 'x' }).expect(403)).body.code).toBe('FORBIDDEN');
    expect((await t.http.delete('/v1/whatsapp/numbers/WAN1').set('X-API-Key', body.key).expect(403)).body.code).toBe('FORBIDDEN');
    // Nothing was created by the refused POST.
    expect((await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200)).body.data).toHaveLength(0);
  });

  it('a write-only key cannot read; keys made without scopes get read and write', async () => {
    const writeOnly = (await newKey({ scopes: ['write'] })).expect(201).body;
    expect((await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', writeOnly.key).expect(403)).body.message).toContain('lacks the read scope');
    const plain = (await newKey({})).expect(201).body;
    expect(plain.scopes).toEqual(['read', 'write']);
    expect(plain.expires_at).toBeNull();
  });

  it('refuses unknown scopes and an expiry in the past', async () => {
    expect((await newKey({ scopes: ['root'] })).status).toBe(400);
    const past = await newKey({ expires_at: new Date(t.clock.now().getTime() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.details[0].field).toBe('expires_at');
    expect((await newKey({ expires_at: 'tomorrow' })).status).toBe(400);
  });

  it('an expired key is 401 with a message saying so', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    const { body } = (await newKey({ expires_at: expiresAt })).expect(201);
    expect(body.expires_at).toBe(expiresAt);
    await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200);
    t.clock.advance(3_600_000);
    const res = await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(401);
    expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED', message: `The API key expired at ${expiresAt}; create a new one` });
  });

  it('lists when and from where a key was last used, written at most once a minute', async () => {
    const { body } = (await newKey({})).expect(201);
    expect(await listed(body.id)).toMatchObject({ last_used_at: null, last_used_ip: null });
    const firstAt = t.clock.now().toISOString();
    await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200);
    const poll = async (expected: string) => {
      for (let i = 0; i < 50 && (await listed(body.id)).last_used_at !== expected; i++) await new Promise((r) => setTimeout(r, 20));
      return listed(body.id);
    };
    expect(await poll(firstAt)).toMatchObject({ last_used_at: firstAt, last_used_ip: expect.stringMatching(/127\.0\.0\.1/) });
    // Within the minute: no new write.
    t.clock.advance(30_000);
    for (let i = 0; i < 5; i++) await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200);
    await new Promise((r) => setTimeout(r, 100));
    expect((await listed(body.id)).last_used_at).toBe(firstAt);
    // After it: the next use is recorded.
    t.clock.advance(31_000);
    await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', body.key).expect(200);
    expect((await poll(t.clock.now().toISOString())).last_used_at).toBe(t.clock.now().toISOString());
  });
});
