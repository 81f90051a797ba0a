import { MessagesService } from '../src/modules/messages/messages.service.js';
import { MediaDownloaderService } from '../src/modules/messages/media-downloader.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { SandboxAdapter } from '../src/whatsapp/sandbox/sandbox.adapter.js';
import { TemplatesService } from '../src/modules/templates/templates.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import type { OutgoingMessage } from '../src/whatsapp/whatsapp.types.js';
import { createTestApp, TestApp } from './support/test-app.js';

describe('sandbox API', () => {
  let t: TestApp;
  let apiKey: string;
  let tenantId: string;
  let lineId: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    ({ apiKey, tenantId } = await t.newTenant());
    lineId = (await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: '+14155550100', provider: 'sandbox' }).expect(201)).body.id;
  });
  afterAll(() => t.close());

  it('injects text, replies and media that go through the webhook path, and reads the conversation back', async () => {
    const base = { waba_phone_number: '+14155550100', from: '+573001112233' };
    await t.http
      .post('/v1/sandbox/messages')
      .set('X-API-Key', apiKey)
      .type('form')
      .send({ ...base, text: 'Hola' })
      .expect(202);
    await t.http
      .post('/v1/sandbox/messages')
      .set('X-API-Key', apiKey)
      .send({ ...base, reply_id: 'accept', reply_title: 'Acepto' })
      .expect(202);
    const media = await t.http
      .post('/v1/sandbox/messages')
      .set('X-API-Key', apiKey)
      .send({ ...base, media_type: 'document', filename: 'cedula.pdf' })
      .expect(202);
    expect(media.body.wamid).toMatch(/^wamid\./);
    await t.app.get(WebhookProcessorService).drain();
    await t.app.get(MediaDownloaderService).downloadDue();
    // The bot answers through the queue.
    await t.db.transaction((m) => t.app.get(MessagesService).enqueue(m, { tenantId, lineId, phone: '+573001112233', message: { kind: 'text', body: 'Bienvenido' } }));
    await t.app.get(SendQueueService).drain();
    const res = await t.http.get('/v1/sandbox/messages').query({ waba_phone_number: base.waba_phone_number, phone: base.from }).set('X-API-Key', apiKey).expect(200);
    const convo = [...res.body.data].reverse();
    expect(convo.map((m: { direction: string; type: string }) => `${m.direction}:${m.type}`)).toEqual(['inbound:text', 'inbound:interactive', 'inbound:document', 'outbound:text']);
    expect(convo[1].content).toMatchObject({ reply_id: 'accept', reply_title: 'Acepto' });
    expect(convo[2].media[0]).toMatchObject({ status: 'stored', mime_type: 'application/pdf', sha256: SandboxAdapter.placeholderSha256('document') });
    expect(convo[3]).toMatchObject({ status: 'sent', content: { kind: 'text', body: 'Bienvenido' } });
  });

  it("rejects a line that is not the tenant's sandbox line, and ambiguous bodies", async () => {
    const other = await t.newTenant('Other');
    const r1 = await t.http.post('/v1/sandbox/messages').set('X-API-Key', other.apiKey).send({ waba_phone_number: '+14155550100', from: '+573001112233', text: 'x' }).expect(400);
    expect(r1.body.details[0].field).toBe('waba_phone_number');
    const r2 = await t.http
      .post('/v1/sandbox/messages')
      .set('X-API-Key', apiKey)
      .send({ waba_phone_number: '+14155550100', from: '+573001112233', text: 'x', reply_id: 'y' })
      .expect(400);
    expect(r2.body.code).toBe('VALIDATION_FAILED');
    const r3 = await t.http.post('/v1/sandbox/messages').set('X-API-Key', apiKey).send({ waba_phone_number: '+14155550100', from: 'not-a-phone', text: 'x' }).expect(400);
    expect(r3.body.details[0].field).toBe('from');
  });

  const botSays = async (phone: string, message: OutgoingMessage) => {
    await t.db.transaction((m) => t.app.get(MessagesService).enqueue(m, { tenantId, lineId, phone, message }));
    await t.app.get(SendQueueService).drain();
  };
  const tap = async (from: string, replyId: string) => {
    await t.http.post('/v1/sandbox/messages').set('X-API-Key', apiKey).send({ waba_phone_number: '+14155550100', from, reply_id: replyId }).expect(202);
    await t.app.get(WebhookProcessorService).drain();
    const [last] = await t.db.query(`SELECT type, content FROM messages WHERE phone = $1 AND direction = 'inbound' ORDER BY id DESC LIMIT 1`, [from]);
    return last;
  };

  it('a tap without reply_title takes the title of that option in the last prompt sent to the user on the line', async () => {
    const user = '+573001114401';
    await botSays(user, {
      kind: 'buttons',
      body: '¿Aceptas?',
      buttons: [
        { id: 'yes', title: 'Sí, acepto' },
        { id: 'no', title: 'No' },
      ],
    });
    expect((await tap(user, 'yes')).content).toMatchObject({ reply_id: 'yes', reply_title: 'Sí, acepto' });
    await botSays(user, {
      kind: 'list',
      body: 'Elige',
      buttonText: 'Opciones',
      rows: [
        { id: 'a', title: 'Uno' },
        { id: 'b', title: 'Dos' },
      ],
    });
    const row = await tap(user, 'b');
    expect(row.content).toMatchObject({ reply_id: 'b', reply_title: 'Dos' });
    const [event] = await t.db.query(`SELECT raw FROM webhook_events WHERE line_id = $1 AND raw LIKE '%"id":"b"%' ORDER BY id DESC LIMIT 1`, [lineId]);
    expect(JSON.parse(event.raw).entry[0].changes[0].value.messages[0].interactive).toEqual({ type: 'list_reply', list_reply: { id: 'b', title: 'Dos' } });
    // An id the last prompt does not offer keeps its id as the title, as before.
    expect((await tap(user, 'zzz')).content).toMatchObject({ reply_id: 'zzz', reply_title: 'zzz' });
    // Another user's prompt on the line says nothing about this one.
    expect((await tap('+573001114402', 'yes')).content).toMatchObject({ reply_title: 'yes' });
  });

  it('shows a sent template rendered with its parameters and buttons, and a tap on its button takes the button text', async () => {
    const user = '+573001114403';
    const template = await t.db.transaction((m) =>
      t.app.get(TemplatesService).create(m, {
        tenantId,
        lineId,
        language: 'es',
        category: 'UTILITY',
        body: 'Hola {{1}}, tu código es {{2}}',
        bodyExamples: ['Ana', '1'],
        quickReplies: ['Continuar', 'Salir'],
      }),
    );
    await botSays(user, { kind: 'template', name: template.name, language: 'es', bodyParams: ['Pepe', '1234'], buttonPayloads: ['continue_process:OUT1', 'cancel_process:OUT1'] });
    const res = await t.http.get('/v1/sandbox/messages').query({ waba_phone_number: '+14155550100', phone: user }).set('X-API-Key', apiKey).expect(200);
    expect(res.body.data[0].content).toMatchObject({
      kind: 'template',
      name: template.name,
      rendered: {
        body: 'Hola Pepe, tu código es 1234',
        buttons: [
          { id: 'continue_process:OUT1', title: 'Continuar' },
          { id: 'cancel_process:OUT1', title: 'Salir' },
        ],
      },
    });
    const tapped = await tap(user, 'cancel_process:OUT1');
    expect(tapped.type).toBe('button');
    expect(tapped.content).toMatchObject({ reply_id: 'cancel_process:OUT1', reply_title: 'Salir', text: 'Salir' });
  });

  it('reports no webhook_path for a sandbox line (nothing calls one)', async () => {
    const res = await t.http.get(`/v1/whatsapp/numbers/${lineId}`).set('X-API-Key', apiKey).expect(200);
    expect(res.body).toMatchObject({ provider: 'sandbox', webhook_path: null });
  });

  it('another tenant cannot read a message', async () => {
    const [msg] = await t.db.query(`SELECT id FROM messages WHERE tenant_id = $1 LIMIT 1`, [tenantId]);
    const other = await t.newTenant('Other');
    await t.http.get(`/v1/whatsapp/messages/${msg.id}`).set('X-API-Key', other.apiKey).expect(404);
    await t.http.get(`/v1/whatsapp/messages/${msg.id}`).set('X-API-Key', apiKey).expect(200);
    const list = await t.http.get('/v1/whatsapp/messages?direction=inbound&limit=2').set('X-API-Key', apiKey).expect(200);
    expect(list.body.data).toHaveLength(2);
    expect(list.body.next_cursor).not.toBeNull();
    await t.http.get('/v1/whatsapp/messages?status=bogus').set('X-API-Key', apiKey).expect(400);
  });
});
