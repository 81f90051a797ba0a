import { FakeGraph } from './fakes/fake-graph.js';
import { createTestApp, TestApp } from './support/test-app.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { OutboundsService } from '../src/modules/outbounds/outbounds.service.js';
import { TemplatesService } from '../src/modules/templates/templates.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';

const TOKEN = 'EAAG-outbounds-token';
const APP_SECRET = 'outbounds-app-secret';
const WABA = '102290129340398';
const PNID = '106540352242922';
const LINE_PHONE = '+573001234567';
const cloudLine = {
  phone_number: LINE_PHONE,
  provider: 'cloud_api',
  phone_number_id: PNID,
  waba_id: WABA,
  access_token: TOKEN,
  app_secret: APP_SECRET,
  verify_token: 'outbounds-verify-token',
};

/** A documented notification with one parameter and an image header, as a form body. */
const notification = {
  waba_phone_number: LINE_PHONE,
  is_notification: 'true',
  content: 'Hola {1}, ya está listo tu recibo No. {{2}}.',
  category: 'PAYMENT_UPDATE',
  template_type: 'IMAGE',
  language_code: 'es',
  media_url: 'https://example.com/receipt.png',
  example_params: 'Pepe,1234',
};

const invitation = {
  waba_phone_number: LINE_PHONE,
  is_notification: 'false',
  content: 'Hola {1}, ¿estás listo para iniciar el proceso?',
  category: 'ACCOUNT_UPDATE',
  template_type: 'TEXT',
  language_code: 'es_MX',
  options: JSON.stringify([
    { message: 'Sí', action: 'continue_process' },
    { message: 'No', action: 'cancel_process' },
  ]),
  example_params: 'Ana',
};

const plain = { ...notification, content: 'Tu código está listo para usar hoy.', template_type: 'TEXT', media_url: '', example_params: '', category: 'UTILITY' };

describe('outbound messages (/v1/whatsapp/outbounds, /v1/whatsapp/consents)', () => {
  let t: TestApp;
  let fake: FakeGraph;
  let key: { 'Truora-API-Key': string };
  let webhookUrl: string;
  let userSeq = 0;

  /** A fresh user number (national part, and the E.164 / wa_id forms). */
  const newUser = () => {
    const national = `300555${String(1000 + ++userSeq).padStart(4, '0')}`;
    return { national, e164: `+57${national}`, waId: `57${national}` };
  };
  const nowTs = () => Math.floor(t.clock.now().getTime() / 1000);
  const processWebhooks = () => t.app.get(WebhookProcessorService).drain();
  const drainQueue = () => t.app.get(SendQueueService).drain();

  const create = (body: Record<string, string>) => t.http.post('/v1/whatsapp/outbounds').set(key).type('form').send(body);
  const send = (body: Record<string, string>, idempotencyKey?: string) => {
    const req = t.http.post('/v1/whatsapp/outbounds/send').set(key).type('form');
    if (idempotencyKey) req.set('Idempotency-Key', idempotencyKey);
    return req.send(body);
  };
  const get = (id: string) => t.http.get(`/v1/whatsapp/outbounds/${id}`).set(key);

  async function templateEvent(outboundId: string, event: 'APPROVED' | 'REJECTED' | 'PAUSED', reason?: string) {
    const o = (await get(outboundId).expect(200)).body;
    const tpl = fake.findTemplate(o.template_name, o.language_code)!;
    fake.setTemplateStatus(tpl.id, event, reason);
    const res = await FakeGraph.postWebhook(
      webhookUrl,
      FakeGraph.templateStatusUpdate({ wabaId: WABA, templateId: tpl.id, name: tpl.name, language: tpl.language, event, reason }),
      APP_SECRET,
    );
    expect(res.status).toBe(200);
    await processWebhooks();
  }

  async function approved(body: Record<string, string>): Promise<string> {
    const res = await create(body).expect(201);
    await templateEvent(res.body.outbound_id, 'APPROVED');
    return res.body.outbound_id;
  }

  async function userWrites(waId: string, text: string, at = nowTs()) {
    const env = FakeGraph.textMessage({ phoneNumberId: PNID, displayPhone: LINE_PHONE.slice(1), from: waId, text, timestamp: at });
    expect((await FakeGraph.postWebhook(webhookUrl, env, APP_SECRET)).status).toBe(200);
    await processWebhooks();
  }

  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: TOKEN });
    t = await createTestApp({
      env: { GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0', WORKERS_ENABLED: 'false', SANDBOX_APPROVAL_DELAY_SECONDS: '120' },
    });
    const { apiKey } = await t.newTenant('Banco');
    key = { 'Truora-API-Key': apiKey };
    fake.addPhoneNumber({ id: PNID, phoneNumber: LINE_PHONE, accessToken: TOKEN });
    await t.http.post('/v1/whatsapp/numbers').set(key).type('form').send(cloudLine).expect(201);
    webhookUrl = `${(await t.app.getUrl()).replace('[::1]', '127.0.0.1')}/v1/whatsapp/webhook`;
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('create → PENDING → submitted → approved by webhook → send → delivered', async () => {
    const created = await create(notification).expect(201);
    expect(created.body).toMatchObject({
      outbound_id: expect.stringMatching(/^OUT[0-9A-Z]{26}$/),
      status: 'PENDING',
      rejection_reason: null,
      waba_phone_number: LINE_PHONE,
      is_notification: true,
      content: 'Hola {{1}}, ya está listo tu recibo No. {{2}}.',
      param_count: 2,
      category: 'PAYMENT_UPDATE',
      submitted_category: 'UTILITY',
      template_type: 'IMAGE',
      language_code: 'es',
      media_url: 'https://example.com/receipt.png',
      options: null,
      example_params: ['Pepe', '1234'],
      submission_error: null,
    });
    const id = created.body.outbound_id as string;

    // What WhatsApp received: a lowercase generated name, the legacy category as UTILITY, BODY with nested examples, IMAGE header.
    const tpl = fake.findTemplate(created.body.template_name, 'es')!;
    expect(tpl.name).toMatch(/^tg_[0-9a-z]{26}$/);
    expect(tpl.category).toBe('UTILITY');
    expect(tpl.status).toBe('PENDING');
    expect(tpl.components).toEqual([
      { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['https://example.com/receipt.png'] } },
      { type: 'BODY', text: 'Hola {{1}}, ya está listo tu recibo No. {{2}}.', example: { body_text: [['Pepe', '1234']] } },
    ]);
    expect((await get(id).expect(200)).body.status).toBe('PENDING');

    await templateEvent(id, 'APPROVED');
    expect((await get(id).expect(200)).body.status).toBe('APPROVED');

    const user = newUser();
    const sent = await send({ phone_number: user.national, country_code: '+57', outbound_id: id, user_authorized: 'true', outbound_params: 'Pepe,1234' }).expect(201);
    expect(sent.body).toMatchObject({ message_id: expect.stringMatching(/^MSG/), status: 'queued', outbound_id: id, phone_number: user.e164, flow_id: null });

    expect(await drainQueue()).toBe(1);
    const [out] = fake.sentTo(user.waId);
    expect(out.type).toBe('template');
    expect(out.body.template).toEqual({
      name: tpl.name,
      language: { code: 'es' },
      components: [
        { type: 'header', parameters: [{ type: 'image', image: { link: 'https://example.com/receipt.png' } }] },
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Pepe' },
            { type: 'text', text: '1234' },
          ],
        },
      ],
    });

    const delivered = FakeGraph.statusUpdate({ phoneNumberId: PNID, displayPhone: LINE_PHONE.slice(1), wamid: out.wamid, recipient: user.waId, status: 'delivered' });
    await FakeGraph.postWebhook(webhookUrl, delivered, APP_SECRET);
    await processWebhooks();
    const message = await t.http.get(`/v1/whatsapp/messages/${sent.body.message_id}`).set(key).expect(200);
    expect(message.body).toMatchObject({ status: 'delivered', provider_message_id: out.wamid, type: 'template' });

    // The opt-in given through user_authorized is on record with the API key that sent it.
    const consents = await t.http.get('/v1/whatsapp/consents').query({ phone: user.e164 }).set(key).expect(200);
    expect(consents.body).toMatchObject({ phone: user.e164, opted_out: false });
    expect(consents.body.data).toEqual([expect.objectContaining({ kind: 'opt_in', source: 'api_send', api_key_id: expect.stringMatching(/^KEY|^[A-Z]{3}/) })]);
  });

  it('a retried submission finds a template whose creation answer was lost instead of creating it twice', async () => {
    const created = await create(notification).expect(201);
    const tpl = fake.findTemplate(created.body.template_name, 'es')!;
    // As if the process died after WhatsApp created the template but before the answer was recorded: the row still
    // pending, its submission job still held by the dead worker, whose lease has run out.
    await t.db.query(`UPDATE templates SET submission_state = 'pending', provider_template_id = NULL, submit_attempts = 1 WHERE name = $1`, [tpl.name]);
    await t.db.query(
      `UPDATE jobs SET status = 'running', attempts = 1, locked_until = $2, finished_at = NULL
        WHERE queue = 'template.submit' AND key = (SELECT id FROM templates WHERE name = $1)`,
      [tpl.name, t.clock.now()],
    );
    fake.setTemplateStatus(tpl.id, 'APPROVED');
    await t.app.get(TemplatesService).retrySubmissions();
    const [row] = await t.db.query(`SELECT provider_template_id, submission_state FROM templates WHERE name = $1`, [tpl.name]);
    expect(row).toEqual({ provider_template_id: tpl.id, submission_state: 'submitted' });
    expect((await get(created.body.outbound_id).expect(200)).body.status).toBe('APPROVED');
    expect([...fake.templates.values()].filter((x) => x.name === tpl.name)).toHaveLength(1);
  });

  it('submits invitations with QUICK_REPLY buttons and lists outbounds by status and line', async () => {
    const created = await create(invitation).expect(201);
    const tpl = fake.findTemplate(created.body.template_name, 'es_MX')!;
    expect(tpl.category).toBe('UTILITY');
    expect(tpl.components).toEqual([
      { type: 'BODY', text: 'Hola {{1}}, ¿estás listo para iniciar el proceso?', example: { body_text: [['Ana']] } },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Sí' },
          { type: 'QUICK_REPLY', text: 'No' },
        ],
      },
    ]);
    const pending = await t.http.get('/v1/whatsapp/outbounds').query({ status: 'PENDING', line: LINE_PHONE }).set(key).expect(200);
    expect(pending.body.data.map((o: { outbound_id: string }) => o.outbound_id)).toContain(created.body.outbound_id);
    expect(pending.body.data.every((o: { status: string }) => o.status === 'PENDING')).toBe(true);
    const approvedList = await t.http.get('/v1/whatsapp/outbounds').query({ status: 'APPROVED' }).set(key).expect(200);
    expect(approvedList.body.data.map((o: { outbound_id: string }) => o.outbound_id)).not.toContain(created.body.outbound_id);
    await t.http.get('/v1/whatsapp/outbounds').query({ status: 'NOPE' }).set(key).expect(400);
    const otherLine = await t.http.get('/v1/whatsapp/outbounds').query({ line: '+573009998877' }).set(key).expect(400);
    expect(otherLine.body.details[0].field).toBe('line');
  });

  describe('create: every rule gives 400 naming the field', () => {
    const cases: Array<[string, Record<string, string | undefined>, string]> = [
      ['a number that is not one of the tenant’s lines', { waba_phone_number: '+573009998877' }, 'waba_phone_number'],
      ['is_notification missing', { is_notification: undefined }, 'is_notification'],
      ['is_notification not a boolean', { is_notification: 'maybe' }, 'is_notification'],
      ['parameters with a gap', { content: 'Hola {1} y {3} fin.', example_params: 'a,b' }, 'content'],
      ['content starting with a parameter', { content: '{1}, tu recibo está listo.', example_params: 'Ana' }, 'content'],
      ['content ending with a parameter', { content: 'Tu recibo es el {{1}}', example_params: '1' }, 'content'],
      ['content over 1,024 characters', { content: 'x'.repeat(1025), example_params: '' }, 'content'],
      ['a named parameter', { content: 'Hola {{nombre}} ya está.', example_params: '' }, 'content'],
      ['an unknown category', { category: 'PROMOTION' }, 'category'],
      ['an unknown template_type', { template_type: 'AUDIO' }, 'template_type'],
      ['a bad language_code', { language_code: 'spanish' }, 'language_code'],
      ['a media template without media_url', { media_url: undefined }, 'media_url'],
      ['an http media_url', { media_url: 'http://example.com/a.png' }, 'media_url'],
      ['a relative media_url', { media_url: '/a.png' }, 'media_url'],
      ['a LOCATION without coordinates', { template_type: 'LOCATION', media_url: 'https://example.com/office' }, 'media_url'],
      ['a LOCATION link with broken percent-encoding', { template_type: 'LOCATION', media_url: 'https://maps.google.com/?q=%E0%A4%A' }, 'media_url'],
      ['parameters without example_params', { example_params: undefined }, 'example_params'],
      ['too few example_params', { example_params: 'Pepe' }, 'example_params'],
      ['options on a notification', { options: invitation.options }, 'options'],
    ];
    it.each(cases)('%s', async (_name, change, field) => {
      const body = Object.fromEntries(Object.entries({ ...notification, ...change }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const res = await create(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    const optionCases: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['not JSON', 'Sí,No'],
      ['no continue_process', JSON.stringify([{ message: 'No', action: 'cancel_process' }])],
      [
        'two continue_process',
        JSON.stringify([
          { message: 'Sí', action: 'continue_process' },
          { message: 'Dale', action: 'continue_process' },
        ]),
      ],
      ['four options', JSON.stringify([{ message: 'A', action: 'continue_process' }, ...['B', 'C', 'D'].map((m) => ({ message: m, action: 'cancel_process' }))])],
      ['a 21-character button', JSON.stringify([{ message: 'x'.repeat(21), action: 'continue_process' }])],
      [
        'an unknown action',
        JSON.stringify([
          { message: 'Sí', action: 'continue_process' },
          { message: 'Luego', action: 'later' },
        ]),
      ],
    ];
    it.each(optionCases)('invitation options %s', async (_name, options) => {
      const body = Object.fromEntries(Object.entries({ ...invitation, options }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const res = await create(body).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['options']);
    });

    it('accepts a 20-character button and nothing was submitted for the refused ones', async () => {
      const before = fake.templates.size;
      await create({ ...invitation, options: JSON.stringify([{ message: 'x'.repeat(20), action: 'continue_process' }]) }).expect(201);
      expect(fake.templates.size).toBe(before + 1);
    });
  });

  it('REJECTED with the reason; sending it is 409 with its status', async () => {
    const id = (await create(plain).expect(201)).body.outbound_id;
    await templateEvent(id, 'REJECTED', 'INVALID_FORMAT');
    expect((await get(id).expect(200)).body).toMatchObject({ status: 'REJECTED', rejection_reason: 'INVALID_FORMAT' });
    const res = await send({ phone_number: newUser().national, country_code: '57', outbound_id: id, user_authorized: 'true' }).expect(409);
    expect(res.body).toMatchObject({ code: 'OUTBOUND_NOT_APPROVED', details: { status: 'REJECTED' } });
  });

  it('send before approval is 409 OUTBOUND_NOT_APPROVED with status PENDING, and nothing is queued', async () => {
    const id = (await create(plain).expect(201)).body.outbound_id;
    const res = await send({ phone_number: newUser().national, country_code: 'CO', outbound_id: id, user_authorized: 'true' }).expect(409);
    expect(res.body).toMatchObject({ code: 'OUTBOUND_NOT_APPROVED', details: { status: 'PENDING' } });
    expect(await drainQueue()).toBe(0);
  });

  it('PAUSED from WhatsApp blocks sends until approved again', async () => {
    const id = await approved(plain);
    await templateEvent(id, 'PAUSED');
    const res = await send({ phone_number: newUser().national, country_code: '57', outbound_id: id, user_authorized: 'true' }).expect(409);
    expect(res.body.details).toEqual({ status: 'PAUSED' });
  });

  describe('send rules', () => {
    let id: string;
    beforeAll(async () => {
      id = await approved({ ...plain, content: 'Hola {1}, tu recibo No. {2} está listo.', example_params: 'Pepe,1234' });
    });
    const valid = () => ({ phone_number: newUser().national, country_code: '57', outbound_id: id, user_authorized: 'true', outbound_params: 'Pepe,1234' });

    it.each([
      ['missing', undefined],
      ['false', 'false'],
    ])('user_authorized %s is 403 OPT_IN_REQUIRED', async (_n, value) => {
      const body = Object.fromEntries(Object.entries({ ...valid(), user_authorized: value }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const res = await send(body).expect(403);
      expect(res.body.code).toBe('OPT_IN_REQUIRED');
    });

    it.each([
      ['too few params', { outbound_params: 'Pepe' }, 'outbound_params'],
      ['too many params', { outbound_params: 'Pepe,1234,extra' }, 'outbound_params'],
      ['no params', { outbound_params: undefined }, 'outbound_params'],
      ['a tab in a param', { outbound_params: 'Pe\tpe,1234' }, 'outbound_params'],
      ['a landline-length number', { phone_number: '12345' }, 'phone_number'],
      ['an unknown country', { country_code: 'ZZ' }, 'country_code'],
      ['flow_id on a notification', { flow_id: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }, 'flow_id'],
    ])('%s is 400', async (_n, change, field) => {
      const body = Object.fromEntries(Object.entries({ ...valid(), ...change }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const res = await send(body).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('an unknown outbound is 404', async () => {
      await send({ ...valid(), outbound_id: 'OUT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }).expect(404);
    });

    it('Idempotency-Key: a retry answers the first response and sends once; another body with it is 422', async () => {
      const body = valid();
      const first = await send(body, 'retry-key-1').expect(201);
      const second = await send(body, 'retry-key-1').expect(201);
      expect(second.body).toEqual(first.body);
      // The same request as JSON hashes alike.
      const asJson = await t.http.post('/v1/whatsapp/outbounds/send').set(key).set('Idempotency-Key', 'retry-key-1').send(body).expect(201);
      expect(asJson.body.message_id).toBe(first.body.message_id);
      expect(await drainQueue()).toBe(1);
      expect(fake.sentTo(first.body.phone_number.slice(1))).toHaveLength(1);
      const reused = await send({ ...body, outbound_params: 'Otro,99' }, 'retry-key-1').expect(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      // Without the key, a repeat is a new send.
      const third = await send(body).expect(201);
      expect(third.body.message_id).not.toBe(first.body.message_id);
    });

    it('Idempotency-Key: concurrent requests with one key send once and all get the same answer', async () => {
      const body = valid();
      const answers = await Promise.all(Array.from({ length: 5 }, () => send(body, 'concurrent-key-1')));
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(answers.map((a) => a.body.message_id)).size).toBe(1);
      // A fresh user: every message to them comes from these five requests.
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE phone = $1`, [answers[0].body.phone_number]);
      expect(n).toBe(1);
    });

    it('a failed request does not burn its Idempotency-Key', async () => {
      const body = valid();
      await send({ ...body, user_authorized: 'false' }, 'retry-key-2').expect(403);
      // Nothing was stored for the refused request: the corrected one with the same key goes through.
      const ok = await send(body, 'retry-key-2').expect(201);
      expect(ok.body.status).toBe('queued');
      expect((await send(body, 'retry-key-2').expect(201)).body).toEqual(ok.body);
    });
  });

  describe('opt-out', () => {
    let id: string;
    beforeAll(async () => {
      id = await approved(plain);
    });
    const sendTo = (national: string) => send({ phone_number: national, country_code: '57', outbound_id: id, user_authorized: 'true' });

    it('a stop keyword (any case, accents) opts out; START lifts it', async () => {
      const user = newUser();
      await sendTo(user.national).expect(201);
      await userWrites(user.waId, '  Cancelar Suscripción ');
      const refused = await sendTo(user.national).expect(409);
      expect(refused.body).toMatchObject({ code: 'OPTED_OUT', details: { phone: user.e164 } });

      // Other text is not a keyword.
      await userWrites(user.waId, 'no quiero parar ahora');
      await sendTo(user.national).expect(409);

      t.clock.advance(60_000);
      await userWrites(user.waId, 'start');
      await sendTo(user.national).expect(201);
      const history = await t.http.get('/v1/whatsapp/consents').query({ phone: user.e164 }).set(key).expect(200);
      expect(history.body.opted_out).toBe(false);
      expect(history.body.data.map((c: { kind: string; source: string }) => `${c.kind}:${c.source}`)).toEqual([
        'opt_in:api_send',
        'opt_in:keyword',
        'opt_out:keyword',
        'opt_in:api_send',
      ]);
    });

    it('POST consents lifts an opt-out only with a newer date, and every event is kept', async () => {
      const user = newUser();
      const stopAt = nowTs();
      await userWrites(user.waId, 'BAJA', stopAt);
      await sendTo(user.national).expect(409);

      const older = await t.http
        .post('/v1/whatsapp/consents')
        .set(key)
        .type('form')
        .send({ phone: user.e164, given_at: new Date((stopAt - 3600) * 1000).toISOString(), source: 'web_form', evidence: 'form 17' })
        .expect(201);
      expect(older.body).toMatchObject({ phone: user.e164, opted_out: true, consent: { kind: 'opt_in', source: 'web_form', evidence: 'form 17' } });
      await sendTo(user.national).expect(409);

      t.clock.advance(120_000);
      const newer = await t.http
        .post('/v1/whatsapp/consents')
        .set(key)
        .type('form')
        .send({ phone: user.e164, given_at: t.clock.now().toISOString(), source: 'web_form' })
        .expect(201);
      expect(newer.body.opted_out).toBe(false);
      await sendTo(user.national).expect(201);

      const bad = await t.http.post('/v1/whatsapp/consents').set(key).type('form').send({ phone: '12', given_at: 'yesterday', source: '' }).expect(400);
      expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['given_at', 'phone', 'source']);
      const future = await t.http
        .post('/v1/whatsapp/consents')
        .set(key)
        .type('form')
        .send({ phone: user.e164, given_at: new Date(t.clock.now().getTime() + 86_400_000).toISOString(), source: 'web_form' })
        .expect(400);
      expect(future.body.details[0].field).toBe('given_at');
      await t.http.get('/v1/whatsapp/consents').query({ phone: 'nope' }).set(key).expect(400);
    });

    it('tenant stop_keywords replace the defaults', async () => {
      const { tenantId } = await t.newTenant('Keywords');
      await t.db.query(`UPDATE tenants SET settings = $2 WHERE id = $1`, [tenantId, { stop_keywords: ['no más'], start_keywords: ['volver'] }]);
      const consents = t.app.get(OutboundsService)['consents'];
      expect(await consents.keywordOf(tenantId, 'NO MAS!')).toBe('stop');
      expect(await consents.keywordOf(tenantId, 'stop')).toBeNull();
      expect(await consents.keywordOf(tenantId, 'Volver')).toBe('start');
    });

    it('WhatsApp error 131050 on a send records an opt-out', async () => {
      const user = newUser();
      const res = await sendTo(user.national).expect(201);
      fake.failFor(user.waId, {
        code: 131050,
        details: 'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
      });
      await drainQueue();
      fake.clearFailures();
      const message = await t.http.get(`/v1/whatsapp/messages/${res.body.message_id}`).set(key).expect(200);
      expect(message.body).toMatchObject({ status: 'failed', error: { code: 'MARKETING_OPTED_OUT' } });
      const refused = await sendTo(user.national).expect(409);
      expect(refused.body.code).toBe('OPTED_OUT');
      const history = await t.http.get('/v1/whatsapp/consents').query({ phone: user.e164 }).set(key).expect(200);
      expect(history.body.data[0]).toMatchObject({ kind: 'opt_out', source: 'whatsapp_131050' });
    });

    it('a user_preferences stop from WhatsApp opts out', async () => {
      const user = newUser();
      const body = {
        object: 'whatsapp_business_account',
        entry: [
          {
            id: WABA,
            changes: [
              {
                field: 'user_preferences',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: LINE_PHONE.slice(1), phone_number_id: PNID },
                  user_preferences: [{ wa_id: user.waId, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value: 'stop', timestamp: nowTs() }],
                },
              },
            ],
          },
        ],
      };
      await FakeGraph.postWebhook(webhookUrl, body, APP_SECRET);
      await processWebhooks();
      expect((await sendTo(user.national).expect(409)).body.code).toBe('OPTED_OUT');
    });
  });

  it('flow invitations: flow_id required and checked; buttons carry routable payloads; a cancel tap is recorded', async () => {
    const id = await approved(invitation);
    const user = newUser();
    const base = { phone_number: user.national, country_code: '57', outbound_id: id, user_authorized: 'true', outbound_params: 'Ana' };
    expect((await send(base).expect(400)).body.details[0].field).toBe('flow_id');
    expect((await send({ ...base, flow_id: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }).expect(400)).body.details[0].field).toBe('flow_id');

    const flow = await t.http
      .post('/v1/flows')
      .set(key)
      .send({ name: 'KYC', steps: [{ id: 'done', type: 'end', outcome: 'succeeded', text: 'Listo' }] })
      .expect(201);
    await t.http
      .post('/v1/whatsapp/consents')
      .set(key)
      .send({ phone: user.e164, given_at: new Date(t.clock.now().getTime() - 86_400_000).toISOString(), source: 'web_form', evidence: 'form 9' })
      .expect(201);
    const sent = await send({ ...base, flow_id: flow.body.id }).expect(201);
    expect(sent.body).toMatchObject({ flow_id: flow.body.id, send_id: expect.stringMatching(/^OSN/) });
    await drainQueue();
    const [out] = fake.sentTo(user.waId);
    const buttons = (out.body.template as { components: Array<{ type: string; parameters: Array<{ payload?: string }> }> }).components.filter((c) => c.type === 'button');
    expect(buttons.map((b) => b.parameters[0].payload)).toEqual([`continue_process:${id}:${sent.body.send_id}`, `cancel_process:${id}:${sent.body.send_id}`]);

    const outbounds = t.app.get(OutboundsService);
    const found = await outbounds.findInvitationByPayload(`continue_process:${id}:${sent.body.send_id}`);
    expect(found).toMatchObject({ flowId: flow.body.id, phone: user.e164, action: 'continue_process', response: null });
    expect(await outbounds.findInvitationByPayload(`continue_process:${id}:${sent.body.send_id}`, { lineId: found!.lineId, phone: '+573005559999' })).toBeNull();

    const tap = FakeGraph.templateQuickReply({
      phoneNumberId: PNID,
      displayPhone: LINE_PHONE.slice(1),
      from: user.waId,
      payload: `cancel_process:${id}:${sent.body.send_id}`,
      text: 'No',
      contextWamid: out.wamid,
      timestamp: nowTs(),
    });
    await FakeGraph.postWebhook(webhookUrl, tap, APP_SECRET);
    await processWebhooks();
    const after = await outbounds.findInvitationByPayload(`cancel_process:${id}:${sent.body.send_id}`);
    expect(after).toMatchObject({ response: 'cancel_process', respondedAt: expect.any(Date) });

    // The refusal's evidence states the opt-in the invitation was sent under: the send's own and the client's record.
    const declined = (await t.http.get('/v1/processes').query({ phone: user.e164 }).set(key).expect(200)).body.data[0];
    const { events } = (await t.http.get(`/v1/processes/${declined.process_id}/evidence`).set(key).expect(200)).body;
    expect(events[0]).toMatchObject({
      type: 'process.declined',
      payload: {
        origin: 'outbound',
        opt_in: {
          source: 'invitation',
          send_id: sent.body.send_id,
          consents: [
            { consent_id: expect.stringMatching(/^CNS/), source: 'api_send', api_key_id: expect.any(String), evidence: null },
            { consent_id: expect.stringMatching(/^CNS/), source: 'web_form', api_key_id: expect.any(String), evidence: 'form 9' },
          ],
        },
      },
    });
  });

  it('another tenant’s outbound is 404', async () => {
    const id = await approved(plain);
    const other = await t.newTenant('Other');
    const otherKey = { 'Truora-API-Key': other.apiKey };
    await t.http.get(`/v1/whatsapp/outbounds/${id}`).set(otherKey).expect(404);
    await t.http
      .post('/v1/whatsapp/outbounds/send')
      .set(otherKey)
      .type('form')
      .send({ phone_number: newUser().national, country_code: '57', outbound_id: id, user_authorized: 'true' })
      .expect(404);
    expect((await t.http.get('/v1/whatsapp/outbounds').set(otherKey).expect(200)).body.data).toEqual([]);
  });

  it('a failed submission keeps the outbound, shows the error, and is retried', async () => {
    const number = { id: '106540352242999', phoneNumber: '+573001112244' };
    fake.addPhoneNumber({ ...number, accessToken: 'soon-revoked-token' });
    await t.http
      .post('/v1/whatsapp/numbers')
      .set(key)
      .type('form')
      .send({ ...cloudLine, phone_number: number.phoneNumber, phone_number_id: number.id, access_token: 'soon-revoked-token' })
      .expect(201);
    // The business revokes that token and issues another: Meta now refuses the line's token.
    fake.addPhoneNumber({ ...number, accessToken: TOKEN });
    const created = await create({ ...plain, waba_phone_number: '+573001112244' }).expect(201);
    expect(created.body.status).toBe('PENDING');
    expect(created.body.submission_error).toMatch(/^AUTH/);
    expect(fake.findTemplate(created.body.template_name, 'es')).toBeUndefined();

    const lines = await t.http.get('/v1/whatsapp/numbers').set(key).expect(200);
    const lineId = lines.body.data.find((l: { phone_number: string }) => l.phone_number === '+573001112244').id;
    await t.http.patch(`/v1/whatsapp/numbers/${lineId}`).set(key).type('form').send({ access_token: TOKEN }).expect(200);
    const templates = t.app.get(TemplatesService);
    expect(await templates.retrySubmissions()).toBe(0); // not due yet
    t.clock.advance(31_000);
    expect(await templates.retrySubmissions()).toBe(1);
    expect(fake.findTemplate(created.body.template_name, 'es')).toBeDefined();
    expect((await get(created.body.outbound_id).expect(200)).body).toMatchObject({ status: 'PENDING', submission_error: null });
  });

  it('the poller approves a sandbox template once its review delay has passed', async () => {
    await t.http.post('/v1/whatsapp/numbers').set(key).type('form').send({ phone_number: '+573001112233', provider: 'sandbox' }).expect(201);
    const created = await create({ ...plain, waba_phone_number: '+573001112233' }).expect(201);
    expect(created.body.status).toBe('PENDING');
    const templates = t.app.get(TemplatesService);
    // This template's poll job (other tests' templates still in review are polled too).
    const pollJob = async () =>
      (
        await t.db.query(
          `SELECT j.status, j.attempts, j.run_at, j.last_error FROM jobs j JOIN templates tp ON tp.id = j.key
                          WHERE j.queue = 'template.poll' AND tp.name = $1`,
          [created.body.template_name],
        )
      )[0];
    const firstPoll = new Date(t.clock.now().getTime() + 60_000);
    await templates.pollPending();
    expect(await pollJob()).toEqual({ status: 'pending', attempts: 0, run_at: firstPoll, last_error: null }); // not due yet
    t.clock.advance(61_000);
    await templates.pollPending();
    // Polled, still in review (120 s): due again a minute later, not counted as a failed attempt.
    expect(await pollJob()).toEqual({ status: 'pending', attempts: 0, run_at: new Date(t.clock.now().getTime() + 60_000), last_error: 'still in review' });
    expect((await get(created.body.outbound_id)).body.status).toBe('PENDING');
    t.clock.advance(61_000);
    await templates.pollPending();
    expect(await pollJob()).toMatchObject({ status: 'done', attempts: 1 });
    expect((await get(created.body.outbound_id)).body.status).toBe('APPROVED');
    const res = await send({ phone_number: newUser().national, country_code: '57', outbound_id: created.body.outbound_id, user_authorized: 'true' }).expect(201);
    expect(await drainQueue()).toBeGreaterThanOrEqual(1);
    expect((await t.http.get(`/v1/whatsapp/messages/${res.body.message_id}`).set(key).expect(200)).body.status).toBe('sent');
  });
});
