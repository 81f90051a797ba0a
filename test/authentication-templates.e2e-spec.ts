import type { EntityManager } from 'typeorm';
import { secretBox } from '../src/common/secrets/secret-box.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import type { Template } from '../src/modules/templates/entities/template.entity.js';
import { POLL_INTERVAL_MS, TemplatesService } from '../src/modules/templates/templates.service.js';
import { sealAuthCode } from '../src/whatsapp/auth-code.js';
import type { OutgoingMessage } from '../src/whatsapp/whatsapp.types.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { CLOUD, cloudSetup, type CloudSetup } from './support/cloud-line.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/** The app's services an authentication code goes through: the template helper, the queue, the sender. */
function services(t: TestApp) {
  const templates = t.app.get(TemplatesService);
  const messages = t.app.get(MessagesService);
  const queue = t.app.get(SendQueueService);
  return {
    templates,
    /** One authentication template per call, each in its own transaction (concurrent calls race for real). */
    authTemplate: (tenantId: string, lineId: string, language: string, options?: Parameters<TemplatesService['authenticationTemplate']>[1]['options']) =>
      t.db.transaction((m: EntityManager) => templates.authenticationTemplate(m, { tenantId, lineId, language, options })),
    /** Queues the code in the template and sends it; returns the message id. */
    sendCode: async (tenantId: string, lineId: string, phone: string, template: Template, authCode: { sealed: string }) => {
      const message: OutgoingMessage = { kind: 'template', name: template.name, language: template.language, authCode };
      const row = await t.db.transaction((m: EntityManager) => messages.enqueue(m, { tenantId, lineId, phone, message }));
      await queue.drain();
      return row.id;
    },
  };
}

async function storedContent(t: TestApp, id: string): Promise<{ content: string; status: string; error_code: string | null }> {
  const [row] = await t.db.query(`SELECT content::text AS content, status, error_code FROM messages WHERE id = $1`, [id]);
  return row;
}

describe('authentication templates (copy code) through the fake Graph API', () => {
  let s: CloudSetup;
  let svc: ReturnType<typeof services>;
  beforeAll(async () => {
    s = await cloudSetup({ throughputMps: 1000 });
    svc = services(s.t);
  });
  afterAll(() => s.close());

  it('is made once per line and language, even by concurrent first uses, and submitted as Meta documents it', async () => {
    const made = await Promise.all([1, 2, 3, 4].map(() => svc.authTemplate(s.tenantId, s.lineId, 'es', { codeExpirationMinutes: 10, addSecurityRecommendation: true })));
    expect(new Set(made.map((x) => x.id)).size).toBe(1);
    const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM templates WHERE line_id = $1 AND language = 'es'`, [s.lineId]);
    expect(n).toBe(1);
    expect(made[0]).toMatchObject({ category: 'AUTHENTICATION', status: 'PENDING', authentication: { codeExpirationMinutes: 10, addSecurityRecommendation: true } });

    const submitted = (await svc.templates.submit(made[0]!.id))!;
    expect(submitted.providerTemplateId).toBeTruthy();
    const create = s.fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/message_templates'))!;
    expect(create.body).toEqual({
      name: made[0]!.name,
      language: 'es',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', add_security_recommendation: true },
        { type: 'FOOTER', code_expiration_minutes: 10 },
        { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE' }] },
      ],
    });
    // Another language is another template; the same one again is reused whatever options come with it.
    const en = await svc.authTemplate(s.tenantId, s.lineId, 'en', { copyCodeButtonText: 'Copy' });
    expect(en.id).not.toBe(made[0]!.id);
    expect((await svc.authTemplate(s.tenantId, s.lineId, 'es', { codeExpirationMinutes: 5 })).id).toBe(made[0]!.id);
  });

  it('refuses options Meta would refuse before writing anything', async () => {
    await expect(svc.authTemplate(s.tenantId, s.lineId, 'fr', { codeExpirationMinutes: 91 })).rejects.toThrow(/codeExpirationMinutes/);
    await expect(svc.authTemplate(s.tenantId, s.lineId, 'fr', { copyCodeButtonText: 'x'.repeat(26) })).rejects.toThrow(/copyCodeButtonText/);
    const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM templates WHERE language = 'fr'`);
    expect(n).toBe(0);
  });

  it('sends the sealed code in the body and the copy-code button; the queue row and the API never show it', async () => {
    const phone = '+573007771001';
    let template = await svc.authTemplate(s.tenantId, s.lineId, 'es');
    // Still in review at Meta: refused as Meta refuses an unapproved template.
    const early = await svc.sendCode(s.tenantId, s.lineId, phone, template, sealAuthCode('000111'));
    expect(await storedContent(s.t, early)).toMatchObject({ status: 'failed', error_code: 'TEMPLATE_PROBLEM' });

    s.fake.setTemplateStatus(template.providerTemplateId!, 'APPROVED');
    s.t.clock.advance(POLL_INTERVAL_MS + 1000);
    await svc.templates.pollPending();
    template = await svc.authTemplate(s.tenantId, s.lineId, 'es');
    expect(template.status).toBe('APPROVED');

    const id = await svc.sendCode(s.tenantId, s.lineId, phone, template, sealAuthCode('482913'));
    const stored = await storedContent(s.t, id);
    expect(stored.status).toBe('sent');
    expect(stored.content).not.toContain('482913');
    expect(stored.content).toContain('enc:v1:');
    expect(s.fake.authCodesSentTo(phone.slice(1))).toEqual(['482913']);
    expect(s.fake.sentTo(phone.slice(1)).at(-1)!.body.template).toEqual({
      name: template.name,
      language: { code: 'es' },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: '482913' }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '482913' }] },
      ],
    });

    const one = await s.t.http.get(`/v1/whatsapp/messages/${id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(one.body.content).toEqual({ kind: 'template', name: template.name, language: 'es', authCode: '******' });
    const list = await s.t.http.get('/v1/whatsapp/messages').query({ phone }).set('X-API-Key', s.apiKey).expect(200);
    const text = JSON.stringify(list.body);
    expect(list.body.data.length).toBe(2);
    expect(text).not.toContain('482913');
    expect(text).not.toContain('enc:v1:');
  });

  it('never sends a code that does not open or is longer than Meta allows', async () => {
    const phone = '+573007771002';
    const template = await svc.authTemplate(s.tenantId, s.lineId, 'es');
    const tooLong = await svc.sendCode(s.tenantId, s.lineId, phone, template, { sealed: secretBox().seal('1234567890123456') });
    expect(await storedContent(s.t, tooLong)).toMatchObject({ status: 'failed', error_code: 'INVALID_REQUEST' });
    const sealed = sealAuthCode('123456').sealed;
    const altered = await svc.sendCode(s.tenantId, s.lineId, phone, template, { sealed: sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA') });
    expect(await storedContent(s.t, altered)).toMatchObject({ status: 'failed', error_code: 'INVALID_REQUEST' });
    expect(s.fake.sentTo(phone.slice(1))).toEqual([]);
    const [row] = await s.t.db.query(`SELECT error_title FROM messages WHERE id = $1`, [tooLong]);
    expect(row.error_title).not.toContain('1234567890123456');
  });
});

describe('the fake Graph API refuses authentication templates and sends Meta would refuse', () => {
  let fake: FakeGraph;
  const waba = CLOUD.wabaId;
  const auth = { authorization: `Bearer ${CLOUD.accessToken}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${fake.baseUrl}/v23.0${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { error?: { code: number; error_user_msg?: string; error_data?: { details: string } }; id?: string } };
  };
  const components = (over: Record<string, unknown> = {}) => [
    { type: 'BODY', add_security_recommendation: true, ...(over.body as object) },
    { type: 'FOOTER', code_expiration_minutes: 10, ...(over.footer as object) },
    { type: 'BUTTONS', buttons: [{ type: 'OTP', otp_type: 'COPY_CODE', text: 'Copiar código', ...(over.button as object) }] },
  ];
  const create = (name: string, comps: unknown) => post(`/${waba}/message_templates`, { name, language: 'es', category: 'AUTHENTICATION', components: comps });
  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: CLOUD.accessToken });
  });
  afterAll(() => fake.close());

  it.each([
    ['a body text of its own', components({ body: { text: 'Tu código es {{1}}' } }), /cannot set a body text/],
    ['an expiry of 91 minutes', components({ footer: { code_expiration_minutes: 91 } }), /1 to 90/],
    ['an expiry of 0 minutes', components({ footer: { code_expiration_minutes: 0 } }), /1 to 90/],
    ['a quick reply instead of the OTP button', components({ button: { type: 'QUICK_REPLY' } }), /must be OTP/],
    ['an unknown otp_type', components({ button: { otp_type: 'PASTE' } }), /otp_type/],
    ['a one-tap button without its app', components({ button: { otp_type: 'ONE_TAP' } }), /supported_apps/],
    ['a button label of 26 characters', components({ button: { text: 'x'.repeat(26) } }), /Max length: 25/],
    ['a header', [{ type: 'HEADER', format: 'TEXT', text: 'Código' }, ...components()], /HEADER/],
  ])('refuses creating one with %s', async (_what, comps, message) => {
    const res = await create('tg_bad_auth', comps);
    expect(res.status).toBe(400);
    expect(res.body.error!.code).toBe(100);
    expect(res.body.error!.error_user_msg).toMatch(message);
  });

  it('accepts the documented shape, stores the button as a URL button, and checks sends of it', async () => {
    const created = await create('tg_auth_ok', components());
    expect(created.status).toBe(200);
    const stored = fake.templates.get(created.body.id!)!;
    expect(stored.components.at(-1)).toMatchObject({ type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Copiar código' }] });
    fake.setTemplateStatus(created.body.id!, 'APPROVED');

    const send = (comps: unknown[]) =>
      post(`/${CLOUD.phoneNumberId}/messages`, {
        messaging_product: 'whatsapp',
        to: '573007771003',
        type: 'template',
        template: { name: 'tg_auth_ok', language: { code: 'es' }, components: comps },
      });
    const body = (...codes: string[]) => ({ type: 'body', parameters: codes.map((text) => ({ type: 'text', text })) });
    const button = (text: string, extra: object = {}) => ({ type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text }], ...extra });

    expect((await send([body('123456'), button('123456')])).status).toBe(200);
    expect(fake.authCodesSentTo('573007771003')).toEqual(['123456']);
    const refusals: Array<[unknown[], number]> = [
      [[body('123456', '7')], 132000],
      [[body('123456')], 131008],
      [[body('1234567890123456'), button('1234567890123456')], 131009],
      [[body('123456'), button('123456', { sub_type: 'quick_reply', parameters: [{ type: 'payload', payload: '123456' }] })], 132000],
      [[body('123456'), button('123456', { index: '1' })], 132000],
    ];
    for (const [comps, code] of refusals) {
      const res = await send(comps);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code });
    }
    expect(fake.authCodesSentTo('573007771003')).toEqual(['123456']);
  });
});

describe('authentication templates on a BSP line', () => {
  let t: TestApp;
  let bsp: FakeGraph;
  beforeAll(async () => {
    bsp = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await bsp?.close();
  });

  it('creates the template at the BSP and sends the code through it', async () => {
    const { tenantId, apiKey } = await t.newTenant();
    const line = await t.http
      .post('/v1/whatsapp/numbers')
      .set('X-API-Key', apiKey)
      .send({ phone_number: '+573001239101', provider: 'bsp', api_key: 'd360-key', base_url: bsp.baseUrl, throughput_mps: 1000 })
      .expect(201);
    const svc = services(t);
    const made = await svc.authTemplate(tenantId, line.body.id, 'en');
    const submitted = (await svc.templates.submit(made.id))!;
    const create = bsp.requests.find((r) => r.method === 'POST' && r.path === '/v1/configs/templates')!;
    expect(create.body).toMatchObject({ category: 'AUTHENTICATION', components: [{ type: 'BODY', add_security_recommendation: true }, { type: 'BUTTONS' }] });
    bsp.setTemplateStatus(submitted.providerTemplateId!, 'APPROVED');
    t.clock.advance(POLL_INTERVAL_MS + 1000);
    await svc.templates.pollPending();
    const approved = await svc.authTemplate(tenantId, line.body.id, 'en');
    expect(approved.status).toBe('APPROVED');
    const id = await svc.sendCode(tenantId, line.body.id, '+573007771101', approved, sealAuthCode('775533'));
    expect((await storedContent(t, id)).status).toBe('sent');
    expect(bsp.authCodesSentTo('573007771101')).toEqual(['775533']);
  });
});

describe('authentication templates in the sandbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
  });
  afterAll(() => t?.close());

  it('are approved at once, and the transcript shows the code and its copy-code button as WhatsApp does', async () => {
    const { tenantId, apiKey } = await t.newTenant();
    const line = (await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: '+14155550177', provider: 'sandbox' }).expect(201)).body;
    const svc = services(t);
    const made = await svc.authTemplate(tenantId, line.id, 'es', { codeExpirationMinutes: 10, addSecurityRecommendation: true });
    const approved = (await svc.templates.submit(made.id))!;
    expect(approved.status).toBe('APPROVED');
    const id = await svc.sendCode(tenantId, line.id, '+573007771201', approved, sealAuthCode('918273'));
    expect(await storedContent(t, id)).toMatchObject({ status: 'sent' });
    expect((await storedContent(t, id)).content).not.toContain('918273');

    const res = await t.http.get('/v1/sandbox/messages').query({ waba_phone_number: '+14155550177', phone: '+573007771201' }).set('X-API-Key', apiKey).expect(200);
    const [shown] = res.body.data;
    expect(shown.content.authCode).toBe('******');
    expect(shown.content.rendered).toEqual({
      body: 'Tu código de verificación es *918273*. Por tu seguridad, no lo compartas.',
      footer: 'Este código caduca en 10 minutos.',
      buttons: [{ type: 'copy_code', title: 'Copiar código', copy_code: '918273' }],
    });
    expect(JSON.stringify(res.body)).not.toContain('enc:v1:');
  });
});
