import { LinesService } from '../src/modules/tenants/lines.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { SecretBox } from '../src/common/secrets/secret-box.js';
import { ADMIN_TOKEN, createTestApp, TEST_SECRETS_KEY, TestApp } from './support/test-app.js';

/** Stored secrets are sealed: the tests open them with the test key. */
const opened = (stored: string) => new SecretBox(TEST_SECRETS_KEY).open(stored);

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const cloudLine = {
  phone_number: '+573001234567',
  provider: 'cloud_api',
  phone_number_id: '106540352242922',
  waba_id: '102290129340398',
  access_token: 'EAAG-secret-access-token',
  app_secret: 'app-secret-value',
  verify_token: 'verify-token-value',
};

describe('tenants, API keys and WhatsApp numbers', () => {
  let t: TestApp;
  let fake: FakeGraph;
  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: cloudLine.access_token });
    // Two of its business's tokens read it: the PATCH below rotates to the second.
    fake.addPhoneNumber({ id: cloudLine.phone_number_id, phoneNumber: cloudLine.phone_number, accessToken: [cloudLine.access_token, 'EAAG-new-token'] });
    t = await createTestApp({ env: { GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0' } });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  describe('admin API', () => {
    it('refuses requests without the admin token', async () => {
      const res = await t.http.post('/v1/admin/tenants').send({ name: 'x' }).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      await t.http.get('/v1/admin/tenants').set('Authorization', 'Bearer wrong-token-wrong-token').expect(401);
    });

    it('creates, reads and lists tenants newest first', async () => {
      const a = await t.http.post('/v1/admin/tenants').set(admin).send({ name: 'First' }).expect(201);
      const b = await t.http.post('/v1/admin/tenants').set(admin).type('form').send({ name: 'Second' }).expect(201);
      expect(a.body.id).toMatch(/^TNT[0-9A-Z]{26}$/);
      expect((await t.http.get(`/v1/admin/tenants/${a.body.id}`).set(admin).expect(200)).body.name).toBe('First');
      const page = await t.http.get('/v1/admin/tenants?limit=1').set(admin).expect(200);
      expect(page.body.data.map((x: { id: string }) => x.id)).toEqual([b.body.id]);
      const next = await t.http.get(`/v1/admin/tenants?limit=1&cursor=${page.body.next_cursor}`).set(admin).expect(200);
      expect(next.body.data[0].id).toBe(a.body.id);
      await t.http.get('/v1/admin/tenants/TNT00000000000000000000000000').set(admin).expect(404);
    });

    it('stores only a hash of each API key', async () => {
      const { tenantId, apiKey } = await t.newTenant();
      expect(apiKey).toMatch(/^tgk_[\w-]{43}$/);
      const rows: Array<Record<string, unknown>> = await t.db.query('SELECT * FROM api_keys WHERE tenant_id = $1', [tenantId]);
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(apiKey);
      expect(JSON.stringify(rows)).not.toContain(apiKey.slice(12));
      const list = await t.http.get(`/v1/admin/tenants/${tenantId}/api-keys`).set(admin).expect(200);
      expect(JSON.stringify(list.body)).not.toContain(apiKey.slice(12));
    });

    it('revoked keys stop working at once', async () => {
      const { tenantId, apiKey } = await t.newTenant();
      await t.http.get('/v1/whatsapp/numbers').set('Truora-API-Key', apiKey).expect(200);
      const keys = await t.http.get(`/v1/admin/tenants/${tenantId}/api-keys`).set(admin).expect(200);
      const revoked = await t.http.delete(`/v1/admin/tenants/${tenantId}/api-keys/${keys.body.data[0].id}`).set(admin).expect(200);
      expect(revoked.body.revoked_at).not.toBeNull();
      const res = await t.http.get('/v1/whatsapp/numbers').set('Truora-API-Key', apiKey).expect(401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('API key authentication', () => {
    it('accepts Truora-API-Key and X-API-Key, refuses missing or unknown keys', async () => {
      const { apiKey } = await t.newTenant();
      await t.http.get('/v1/whatsapp/numbers').set('Truora-API-Key', apiKey).expect(200);
      await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', apiKey).expect(200);
      const missing = await t.http.get('/v1/whatsapp/numbers').expect(401);
      expect(missing.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String), requestId: expect.any(String) });
      await t.http
        .get('/v1/whatsapp/numbers')
        .set('Truora-API-Key', apiKey + 'x')
        .expect(401);
    });
  });

  describe('WhatsApp numbers', () => {
    it('creates a cloud_api line from a form body and never returns its secrets', async () => {
      const { apiKey } = await t.newTenant();
      const created = await t.http
        .post('/v1/whatsapp/numbers')
        .set('Truora-API-Key', apiKey)
        .type('form')
        .send({ ...cloudLine, throughput_mps: '40' })
        .expect(201);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^WAN/),
        phone_number: '+573001234567',
        provider: 'cloud_api',
        phone_number_id: '106540352242922',
        throughput_mps: 40,
        credentials_set: ['access_token', 'app_secret', 'verify_token'],
      });
      const one = await t.http.get(`/v1/whatsapp/numbers/${created.body.id}`).set('Truora-API-Key', apiKey).expect(200);
      const list = await t.http.get('/v1/whatsapp/numbers').set('Truora-API-Key', apiKey).expect(200);
      const patched = await t.http.patch(`/v1/whatsapp/numbers/${created.body.id}`).set('Truora-API-Key', apiKey).send({ access_token: 'EAAG-new-token' }).expect(200);
      for (const body of [created.body, one.body, list.body, patched.body]) {
        const text = JSON.stringify(body);
        for (const secret of ['EAAG-secret-access-token', 'EAAG-new-token', 'app-secret-value', 'verify-token-value']) expect(text).not.toContain(secret);
      }
      const [row] = await t.db.query('SELECT secrets FROM whatsapp_lines WHERE id = $1', [created.body.id]);
      expect(opened(row.secrets.access_token)).toBe('EAAG-new-token');
    });

    it('accepts JSON and defaults throughput to 80', async () => {
      const { apiKey } = await t.newTenant();
      const res = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: '+14155550111', provider: 'sandbox' }).expect(201);
      expect(res.body.throughput_mps).toBe(80);
    });

    it("isolates tenants: another tenant's line is a 404", async () => {
      const a = await t.newTenant('A');
      const b = await t.newTenant('B');
      const line = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', a.apiKey).send({ phone_number: '+14155550122', provider: 'sandbox' }).expect(201);
      const res = await t.http.get(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', b.apiKey).expect(404);
      expect(res.body.code).toBe('NOT_FOUND');
      await t.http.patch(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', b.apiKey).send({ throughput_mps: 5 }).expect(404);
      await t.http.delete(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', b.apiKey).expect(404);
      const listB = await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', b.apiKey).expect(200);
      expect(listB.body.data).toEqual([]);
      await t.http.get(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', a.apiKey).expect(200);
    });

    it('a sandbox number is unique within its tenant only: it proves nothing, so it claims nothing from others', async () => {
      const a = await t.newTenant('A');
      const b = await t.newTenant('B');
      const line = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', a.apiKey).send({ phone_number: '+14155550133', provider: 'sandbox' }).expect(201);
      const taken = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', a.apiKey).send({ phone_number: '+1 415 555 0133', provider: 'sandbox' }).expect(409);
      expect(taken.body).toMatchObject({ code: 'NUMBER_TAKEN', message: 'This number cannot be registered' });
      await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', b.apiKey).send({ phone_number: '+14155550133', provider: 'sandbox' }).expect(201);
      await t.http.delete(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', a.apiKey).expect(204);
      await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', a.apiKey).send({ phone_number: '+14155550133', provider: 'sandbox' }).expect(201);
    });

    describe('ownership of cloud_api numbers', () => {
      const owned = {
        phone_number: '+573005550001',
        provider: 'cloud_api',
        phone_number_id: '200000000000001',
        waba_id: '200000000000009',
        access_token: 'EAAG-owner-token',
        app_secret: 'owner-app-secret',
        verify_token: 'owner-verify-token',
      };
      beforeAll(() => {
        fake.addPhoneNumber({ id: owned.phone_number_id, phoneNumber: owned.phone_number, accessToken: owned.access_token });
        // Another business's number: its token is one Meta knows, but it cannot read the number above.
        fake.addPhoneNumber({ id: '200000000000002', phoneNumber: '+573005550002', accessToken: 'EAAG-other-business-token' });
      });
      const stored = async () => (await t.db.query(`SELECT count(*)::int AS n FROM whatsapp_lines WHERE phone_number_id = $1`, [owned.phone_number_id]))[0].n;
      const register = (apiKey: string, body: object) => t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send(body);

      it('accepts a line only when its access token reads its phone_number_id and Meta shows its phone_number', async () => {
        const { apiKey } = await t.newTenant('Squatter');
        for (const [body, field] of [
          [{ ...owned, access_token: 'EAAG-made-up-token' }, 'access_token'],
          [{ ...owned, access_token: 'EAAG-other-business-token' }, 'phone_number_id'],
          [{ ...owned, phone_number: '+573005550099' }, 'phone_number'],
        ] as const) {
          const res = await register(apiKey, body).expect(422);
          expect(res.body).toMatchObject({ code: 'LINE_NOT_VERIFIED', details: [{ field, messages: [expect.any(String)] }] });
        }
        expect(await stored()).toBe(0);
        const seen = fake.requests.filter((r) => r.path === `/v23.0/${owned.phone_number_id}?fields=id,display_phone_number,verified_name`);
        expect(seen.map((r) => r.headers.authorization)).toEqual(['Bearer EAAG-made-up-token', 'Bearer EAAG-other-business-token', 'Bearer EAAG-owner-token']);

        const line = await register(apiKey, owned).expect(201);
        // A new token is checked the same way before it replaces the stored one.
        const patched = await t.http.patch(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', apiKey).send({ access_token: 'EAAG-other-business-token' }).expect(422);
        expect(patched.body.details[0].field).toBe('phone_number_id');
        const [row] = await t.db.query('SELECT secrets FROM whatsapp_lines WHERE id = $1', [line.body.id]);
        expect(opened(row.secrets.access_token)).toBe(owned.access_token);
        await t.http.delete(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', apiKey).expect(204);
      });

      it('answers a taken number with one neutral 409, the same for its own holder and for anyone else', async () => {
        const a = await t.newTenant('Owner');
        const b = await t.newTenant('Other');
        const line = await register(a.apiKey, owned).expect(201);
        const answers = [
          await register(b.apiKey, owned).expect(409),
          await register(a.apiKey, owned).expect(409),
          await register(a.apiKey, { phone_number: owned.phone_number, provider: 'sandbox' }).expect(409),
        ];
        for (const res of answers) {
          const { requestId: _, ...body } = res.body;
          expect(body).toEqual({ statusCode: 409, code: 'NUMBER_TAKEN', message: 'This number cannot be registered' });
          for (const leak of [a.tenantId, line.body.id, owned.phone_number_id]) expect(JSON.stringify(res.body)).not.toContain(leak);
        }
        // Without the number's token nobody learns it is taken: the ownership check answers first.
        const probe = await register(b.apiKey, { ...owned, access_token: 'EAAG-other-business-token' }).expect(422);
        expect(probe.body.code).toBe('LINE_NOT_VERIFIED');
        // An unproven BSP line may name the same phone_number_id, but never receives the number's webhooks.
        await register(b.apiKey, {
          phone_number: owned.phone_number,
          provider: 'bsp',
          api_key: 'k',
          base_url: 'https://waba.example.com',
          phone_number_id: owned.phone_number_id,
        }).expect(201);
        expect((await t.app.get(LinesService).findByPhoneNumberId(owned.phone_number_id))?.id).toBe(line.body.id);
      });
    });

    it('refuses a BSP base URL on a private, loopback or link-local address when local URLs are not allowed', async () => {
      const { apiKey } = await t.newTenant();
      const bsp = { phone_number: '+14155550145', provider: 'bsp', api_key: 'k' };
      t.config.ALLOW_LOCAL_URLS = false;
      try {
        for (const base_url of ['https://10.0.0.1', 'https://169.254.169.254/latest', 'https://localhost:8443', 'https://user:pw@bsp.example.com']) {
          const res = await t.http
            .post('/v1/whatsapp/numbers')
            .set('X-API-Key', apiKey)
            .send({ ...bsp, base_url })
            .expect(400);
          expect(res.body.details).toEqual([{ field: 'base_url', messages: [expect.stringMatching(/private|credentials/)] }]);
        }
        const line = await t.http
          .post('/v1/whatsapp/numbers')
          .set('X-API-Key', apiKey)
          .send({ ...bsp, base_url: 'https://waba.example.com' })
          .expect(201);
        await t.http.patch(`/v1/whatsapp/numbers/${line.body.id}`).set('X-API-Key', apiKey).send({ base_url: 'https://192.168.0.5' }).expect(400);
        const [row] = await t.db.query('SELECT base_url FROM whatsapp_lines WHERE id = $1', [line.body.id]);
        expect(row.base_url).toBe('https://waba.example.com');
      } finally {
        t.config.ALLOW_LOCAL_URLS = true;
      }
    });

    it.each([
      ['a bad phone number', { phone_number: '12345', provider: 'sandbox' }, 'phone_number'],
      ['an unknown provider', { phone_number: '+14155550144', provider: 'twilio' }, 'provider'],
      ['an unknown field', { phone_number: '+14155550144', provider: 'sandbox', color: 'red' }, 'color'],
      ['a missing cloud_api credential', { ...cloudLine, phone_number: '+14155550144', app_secret: undefined }, 'app_secret'],
      ['a credential of another provider', { phone_number: '+14155550144', provider: 'sandbox', api_key: 'k' }, 'api_key'],
      ['a zero throughput', { phone_number: '+14155550144', provider: 'sandbox', throughput_mps: 0 }, 'throughput_mps'],
      ['a non-https BSP base URL', { phone_number: '+14155550144', provider: 'bsp', api_key: 'k', base_url: 'http://bsp.example.com' }, 'base_url'],
    ])('rejects %s with 400 naming the field', async (_name, body, field) => {
      const { apiKey } = await t.newTenant();
      const res = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
      const count = await t.db.query(`SELECT count(*)::int AS n FROM whatsapp_lines WHERE phone_number = '+14155550144'`);
      expect(count[0].n).toBe(0);
    });
  });
});
