import { createHash } from 'node:crypto';
import { MediaDownloaderService } from '../src/modules/messages/media-downloader.service.js';
import { ConversationsCron } from '../src/modules/conversations/conversations.cron.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';
import { createTestApp } from './support/test-app.js';
import { sandboxChat } from './support/sandbox-chat.js';

const FLOW = {
  name: 'Onboarding',
  steps: [
    { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
    {
      id: 'plan',
      type: 'choice',
      style: 'buttons',
      text: '¿Qué plan?',
      options: [
        { id: 'basic', title: 'Básico' },
        { id: 'pro', title: 'Pro' },
      ],
    },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
};

describe('conversation engine through the Cloud API', () => {
  let s: CloudSetup;
  let flowId: string;
  beforeAll(async () => {
    s = await cloudSetup({ throughputMps: 1000 });
    flowId = (await s.t.http.post('/v1/flows').set('X-API-Key', s.apiKey).send(FLOW).expect(201)).body.id;
    await s.t.http.post('/v1/whatsapp/inbounds').set('X-API-Key', s.apiKey).send({ waba_phone_number: CLOUD.phoneNumber, flow_id: flowId, inbound_message: 'empezar' }).expect(201);
  });
  afterAll(() => s.close());

  const base = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone };
  const post = (body: object) => FakeGraph.postWebhook(s.webhookUrl, body, CLOUD.appSecret);
  const work = async () => {
    await s.t.app.get(WebhookProcessorService).drain();
    await s.t.app.get(SendQueueService).drain();
  };
  const processOf = async (phone: string) => (await s.t.http.get('/v1/processes').query({ phone }).set('X-API-Key', s.apiKey).expect(200)).body.data[0];

  it('runs a flow from signed webhooks; prompts reach the Graph API', async () => {
    const from = '573007770001';
    await post(FakeGraph.textMessage({ ...base, from, text: 'Empezar' }));
    await work();
    expect(s.fake.sentTo(from).map((m) => m.body.text)).toEqual([{ body: '¿Tu correo?', preview_url: false }]);
    await post(FakeGraph.textMessage({ ...base, from, text: 'ana@example.com' }));
    await work();
    const buttons = s.fake.sentTo(from).at(-1)!;
    expect(buttons.type).toBe('interactive');
    const wamid = buttons.wamid;
    await post(FakeGraph.buttonReply({ ...base, from, id: 'pro', title: 'Pro', contextWamid: wamid }));
    await work();
    expect(await processOf(`+${from}`)).toMatchObject({ status: 'succeeded', answers: { plan: { value: 'pro' } } });
  });

  it("applies many users' calls in one transaction, and one user's start and answer in one call, in order", async () => {
    const [a, b, c] = ['573007770101', '573007770102', '573007770103'];
    await post(FakeGraph.textMessage({ ...base, from: a, text: 'empezar' }));
    await work();
    // A answers, B starts, and C starts and answers in the same call: all claimed and applied together.
    await post(FakeGraph.textMessage({ ...base, from: a, text: 'a@example.com' }));
    await post(FakeGraph.textMessage({ ...base, from: b, text: 'empezar' }));
    await post(FakeGraph.batch(FakeGraph.textMessage({ ...base, from: c, text: 'empezar' }), FakeGraph.textMessage({ ...base, from: c, text: 'c@example.com' })));
    expect(await s.t.app.get(WebhookProcessorService).processPending()).toBe(3);
    await s.t.app.get(SendQueueService).drain();
    expect(await processOf(`+${a}`)).toMatchObject({ status: 'pending', answers: { email: { value: 'a@example.com', valid: true } } });
    expect(await processOf(`+${b}`)).toMatchObject({ status: 'pending', answers: {} });
    expect(await processOf(`+${c}`)).toMatchObject({ status: 'pending', answers: { email: { value: 'c@example.com', valid: true } } });
    expect(s.fake.sentTo(c).map((m) => m.type)).toEqual(['text', 'interactive']);
    const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status = 'pending'`);
    expect(n).toBe(0);
  });

  it.each([
    ['its last answer', 'Pro', 'succeeded'],
    ['the exit keyword', 'salir', 'cancelled'],
  ])('starts a new process when %s and the start message come in one call', async (_name, text, status) => {
    const from = text === 'Pro' ? '573007770201' : '573007770202';
    await post(FakeGraph.textMessage({ ...base, from, text: 'empezar' }));
    await work();
    await post(FakeGraph.textMessage({ ...base, from, text: 'ana@example.com' }));
    await work();
    // The first process ends and the next starts in the same transaction: one pending process per user still holds.
    await post(FakeGraph.batch(FakeGraph.textMessage({ ...base, from, text }), FakeGraph.textMessage({ ...base, from, text: 'empezar' })));
    await work();
    const all = (
      await s.t.http
        .get('/v1/processes')
        .query({ phone: `+${from}` })
        .set('X-API-Key', s.apiKey)
        .expect(200)
    ).body.data;
    expect(all.map((p: { status: string }) => p.status).sort()).toEqual(['pending', status].sort());
    const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE status <> 'processed' AND raw LIKE $1`, [`%${from}%`]);
    expect(n).toBe(0);
  });

  it('runs a flow with every step type from signed webhooks, media downloaded from the Graph API', async () => {
    const every = {
      name: 'every step',
      steps: [
        { id: 'hi', type: 'message', text: 'Hola', media_url: 'https://example.com/logo.png', media_type: 'image' },
        { id: 'terms', type: 'consent', text: '¿Aceptas?' },
        {
          id: 'kind',
          type: 'choice',
          style: 'list',
          text: '¿Tipo?',
          options: [
            { id: 'cc', title: 'Cédula' },
            { id: 'ce', title: 'Extranjería' },
          ],
        },
        { id: 'id', type: 'question', text: 'Número', validator: { type: 'national_id', country: 'CO' } },
        { id: 'selfie', type: 'media', text: 'Selfie', accept: ['image'] },
        { id: 'ok', type: 'end', outcome: 'succeeded', text: 'Listo' },
      ],
    };
    const id = (await s.t.http.post('/v1/flows').set('X-API-Key', s.apiKey).send(every).expect(201)).body.id;
    await s.t.http.post('/v1/whatsapp/inbounds').set('X-API-Key', s.apiKey).send({ waba_phone_number: CLOUD.phoneNumber, flow_id: id, inbound_message: 'todo' }).expect(201);
    const from = '573007770010';
    const selfie = Buffer.from('selfie jpeg bytes');
    s.fake.addMedia('selfie-1', selfie, 'image/jpeg');
    await post(FakeGraph.textMessage({ ...base, from, text: 'todo' }));
    await work();
    expect(s.fake.sentTo(from).map((m) => m.type)).toEqual(['image', 'interactive']);
    await post(FakeGraph.buttonReply({ ...base, from, id: 'consent:accept', title: 'Acepto' }));
    await work();
    await post(FakeGraph.listReply({ ...base, from, id: 'cc', title: 'Cédula' }));
    await work();
    await post(FakeGraph.textMessage({ ...base, from, text: '1020304050' }));
    await work();
    await post(FakeGraph.imageMessage({ ...base, from, mediaId: 'selfie-1', mimeType: 'image/jpeg' }));
    await work();
    await s.t.app.get(MediaDownloaderService).downloadDue();
    const p = await processOf(`+${from}`);
    expect(p.status).toBe('succeeded');
    expect(Object.keys(p.answers)).toEqual(['terms', 'kind', 'id', 'selfie']);
    expect(p.answers.selfie.media).toMatchObject({ status: 'stored', sha256: createHash('sha256').update(selfie).digest('hex') });
    expect(s.fake.sentTo(from).at(-1)?.body.text).toEqual({ body: 'Listo', preview_url: false });
  });

  it('a message delivered after its 24-hour window closed is kept but starts nothing', async () => {
    const from = '573007770020';
    const wroteAt = Math.floor(s.t.clock.now().getTime() / 1000) - 25 * 3600;
    await post(FakeGraph.textMessage({ ...base, from, text: 'empezar', timestamp: wroteAt }));
    await work();
    expect(await processOf(`+${from}`)).toBeUndefined();
    expect(s.fake.sentTo(from)).toEqual([]);
    const [msg] = await s.t.db.query(`SELECT status FROM messages WHERE phone = $1`, [`+${from}`]);
    expect(msg.status).toBe('received');
  });

  it('applies a duplicated webhook once', async () => {
    const from = '573007770002';
    await post(FakeGraph.textMessage({ ...base, from, text: 'empezar' }));
    await work();
    const answer = FakeGraph.textMessage({ ...base, from, text: 'no-es-correo' });
    await post(answer);
    await post(answer); // Meta's retry: same wamid
    await work();
    const p = await processOf(`+${from}`);
    expect(p.history).toHaveLength(1);
    expect(p.status).toBe('pending');
  });

  it("two processors apply one user's messages in order: the second waits while the first is in progress", async () => {
    const from = '573007770003';
    await post(FakeGraph.textMessage({ ...base, from, text: 'empezar' }));
    await work();
    const second = await createTestApp({ databaseUrl: s.t.databaseUrl, clock: s.t.clock, env: { GRAPH_API_BASE_URL: s.fake.baseUrl, WORKERS_ENABLED: 'false' } });
    try {
      await post(FakeGraph.textMessage({ ...base, from, text: 'ana@example.com' }));
      await post(FakeGraph.textMessage({ ...base, from, text: 'Pro' }));
      const p1 = s.t.app.get(WebhookProcessorService);
      const p2 = second.app.get(WebhookProcessorService);
      // Both take one event at the same time: only the user's oldest one can be taken while it is in progress.
      await Promise.all([p1.processPending(1), p2.processPending(1)]);
      await Promise.all([p1.drain(), p2.drain()]);
      await s.t.app.get(SendQueueService).drain();
      const p = await processOf(`+${from}`);
      expect(p.history.map((h: { step_id: string; valid: boolean }) => [h.step_id, h.valid])).toEqual([
        ['email', true],
        ['plan', true],
      ]);
      expect(p.status).toBe('succeeded');
    } finally {
      await second.app.close();
    }
  });

  it('expires a process when the 24-hour window closes before expiration_minutes', async () => {
    const longFlow = (
      await s.t.http
        .post('/v1/flows')
        .set('X-API-Key', s.apiKey)
        .send({ ...FLOW, name: 'long', settings: { expiration_minutes: 10080 } })
        .expect(201)
    ).body.id;
    await s.t.http.post('/v1/whatsapp/inbounds').set('X-API-Key', s.apiKey).send({ waba_phone_number: CLOUD.phoneNumber, flow_id: longFlow, inbound_message: 'largo' }).expect(201);
    const from = '573007770004';
    await post(FakeGraph.textMessage({ ...base, from, text: 'largo' }));
    await work();
    s.t.clock.advance(12 * 3600_000);
    await post(FakeGraph.textMessage({ ...base, from, text: 'ana@example.com' })); // moves the window
    await work();
    s.t.clock.advance(23 * 3600_000);
    await s.t.app.get(ConversationsCron).expireDue();
    expect((await processOf(`+${from}`)).status).toBe('pending');
    s.t.clock.advance(2 * 3600_000);
    await s.t.app.get(ConversationsCron).expireDue();
    expect(await processOf(`+${from}`)).toMatchObject({ status: 'expired', failure_reason: 'expired' });
  });
});

describe('flow invitations (outbound)', () => {
  it('a tap on continue_process starts the flow; cancel_process records a failed process, reason user_declined', async () => {
    const c = await sandboxChat();
    try {
      const flowId = await c.flow(FLOW);
      const receiver = await new HookReceiver().start();
      await c.t.http
        .post('/v1/hooks')
        .set('X-API-Key', c.apiKey)
        .send({ url: receiver.url, events: ['outbound.status'] })
        .expect(201);
      const outbound = await c.t.http
        .post('/v1/whatsapp/outbounds')
        .set('Truora-API-Key', c.apiKey)
        .type('form')
        .send({
          waba_phone_number: '+14155550100',
          is_notification: 'false',
          content: 'Hola {1}, ¿estás listo para iniciar el proceso?',
          category: 'ACCOUNT_UPDATE',
          template_type: 'TEXT',
          language_code: 'es',
          options: JSON.stringify([
            { message: 'Sí', action: 'continue_process' },
            { message: 'No', action: 'cancel_process' },
          ]),
          example_params: 'Pepe',
        })
        .expect(201);
      await c.work();
      // The sandbox approves at once: the approval reached the client as an outbound.status hook.
      const [approved] = (await receiver.waitFor(1)).map((r) => JSON.parse(r.body));
      expect(approved).toMatchObject({ type: 'outbound.status', data: { outbound_id: outbound.body.outbound_id, status: 'APPROVED' } });
      await receiver.stop();
      const invite = async (phone: string) =>
        (
          await c.t.http
            .post('/v1/whatsapp/outbounds/send')
            .set('Truora-API-Key', c.apiKey)
            .type('form')
            .send({ phone_number: phone, country_code: '57', outbound_id: outbound.body.outbound_id, user_authorized: 'true', flow_id: flowId, outbound_params: 'Ana' })
            .expect(201)
        ).body;
      const yes = await invite('3005550201');
      const no = await invite('3005550202');
      await c.work();
      await c.say('+573005550201', { reply_id: `continue_process:${outbound.body.outbound_id}:${yes.send_id}`, reply_title: 'Sí' });
      expect(await c.process('+573005550201')).toMatchObject({ status: 'pending', origin: 'outbound', origin_id: yes.send_id, current_step_id: 'email' });
      expect(await c.lastBot('+573005550201')).toEqual({ kind: 'text', body: '¿Tu correo?' });
      await c.say('+573005550202', { reply_id: `cancel_process:${outbound.body.outbound_id}:${no.send_id}`, reply_title: 'No' });
      expect(await c.process('+573005550202')).toMatchObject({ status: 'failed', failure_reason: 'user_declined', origin: 'outbound' });
      // A refusal while another process runs is recorded too.
      const busy = await invite('3005550203');
      const again = await invite('3005550203');
      await c.work();
      await c.say('+573005550203', { reply_id: `continue_process:${outbound.body.outbound_id}:${busy.send_id}`, reply_title: 'Sí' });
      await c.say('+573005550203', { reply_id: `cancel_process:${outbound.body.outbound_id}:${again.send_id}`, reply_title: 'No' });
      const both = await c.t.http.get('/v1/processes').query({ phone: '+573005550203' }).set('X-API-Key', c.apiKey).expect(200);
      expect(both.body.data.map((p: { status: string; failure_reason: string | null }) => [p.status, p.failure_reason])).toEqual([
        ['failed', 'user_declined'],
        ['pending', null],
      ]);
      // A second tap on an answered invitation does nothing more.
      await c.say('+573005550202', { reply_id: `continue_process:${outbound.body.outbound_id}:${no.send_id}`, reply_title: 'Sí' });
      const list = await c.t.http.get('/v1/processes').query({ phone: '+573005550202' }).set('X-API-Key', c.apiKey).expect(200);
      expect(list.body.data).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});
