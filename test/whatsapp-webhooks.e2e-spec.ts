import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { HooksService } from '../src/modules/hooks/hooks.service.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { MediaDownloaderService } from '../src/modules/messages/media-downloader.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { HookDispatcher } from '../src/modules/hooks/hook-dispatcher.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';
import { createTestApp } from './support/test-app.js';

const line = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone };
const FIXTURES = new URL('../../shared/fixtures/whatsapp-cloud-api/', import.meta.url);

describe('webhook ingress', () => {
  let s: CloudSetup;
  let processor: WebhookProcessorService;
  beforeAll(async () => {
    s = await cloudSetup();
    processor = s.t.app.get(WebhookProcessorService);
  });
  afterAll(() => s.close());

  const post = (body: object, secret: string | null = CLOUD.appSecret) => FakeGraph.postWebhook(s.webhookUrl, body, secret ?? undefined);
  const inbound = (tenantId = s.tenantId) => s.t.db.query(`SELECT * FROM messages WHERE tenant_id = $1 AND direction = 'inbound' ORDER BY id`, [tenantId]);

  it('answers the verification handshake only for a line verify token', async () => {
    const ok = await s.t.http.get('/v1/whatsapp/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': CLOUD.verifyToken, 'hub.challenge': '1158201444' }).expect(200);
    expect(ok.text).toBe('1158201444');
    expect(ok.headers['content-type']).toMatch(/text\/plain/);
    const bad = await s.t.http.get('/v1/whatsapp/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': '1' }).expect(403);
    expect(bad.body.code).toBe('FORBIDDEN');
    await s.t.http.get('/v1/whatsapp/webhook').query({ 'hub.mode': 'unsubscribe', 'hub.verify_token': CLOUD.verifyToken, 'hub.challenge': '1' }).expect(403);
  });

  it('rejects unsigned and wrongly signed calls and stores nothing', async () => {
    const before = await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events`);
    const body = FakeGraph.textMessage({ ...line, from: '573009990001', text: 'hola' });
    expect((await post(body, null)).status).toBe(401);
    const wrong = await post(body, 'another-secret');
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).code).toBe('INVALID_SIGNATURE');
    const after = await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events`);
    expect(after[0].n).toBe(before[0].n);
  });

  it('stores a signed call before answering, then records the message once however often it is delivered', async () => {
    const body = FakeGraph.textMessage({ ...line, from: '573009990002', text: 'Hola, quiero empezar', profileName: 'Ana' });
    const res = await post(body);
    expect(res.status).toBe(200);
    const stored = await s.t.db.query(`SELECT status, raw FROM webhook_events ORDER BY id DESC LIMIT 1`);
    expect(stored[0]).toMatchObject({ status: 'pending', raw: JSON.stringify(body) });
    expect((await post(body)).status).toBe(200); // Meta retries: same wamid again
    await processor.drain();
    const rows = (await inbound()).filter((m: { phone: string }) => m.phone === '+573009990002');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'text', status: 'received', line_id: s.lineId });
    expect(rows[0].content).toMatchObject({ text: 'Hola, quiero empezar', profile_name: 'Ana' });
    const events = await s.t.db.query(`SELECT status, summary FROM webhook_events ORDER BY id DESC LIMIT 2`);
    expect(events.map((e: { status: string }) => e.status)).toEqual(['processed', 'processed']);
    expect(events[0].summary.duplicates).toBe(1);
  });

  it('handles a batch with several entries, changes and messages whole', async () => {
    const body = FakeGraph.batch(
      FakeGraph.textMessage({ ...line, from: '573009990010', text: 'uno' }),
      FakeGraph.textMessage({ ...line, from: '573009990011', text: 'dos' }),
      FakeGraph.buttonReply({ ...line, from: '573009990012', id: 'yes', title: 'Sí' }),
    );
    expect((await post(body)).status).toBe(200);
    await processor.drain();
    const rows = await inbound();
    const phones = rows.map((m: { phone: string }) => m.phone);
    expect(phones).toEqual(expect.arrayContaining(['+573009990010', '+573009990011', '+573009990012']));
    const button = rows.find((m: { phone: string }) => m.phone === '+573009990012');
    expect(button.content).toMatchObject({ reply_id: 'yes', reply_title: 'Sí' });
  });

  it('applies statuses monotonically whatever order they arrive in', async () => {
    const messages = s.t.app.get(MessagesService);
    const queued = await s.t.db.transaction((m) =>
      messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: '+573009990020', message: { kind: 'text', body: 'Hola' } }),
    );
    await s.t.app.get(SendQueueService).drain();
    const sent = await s.t.http.get(`/v1/whatsapp/messages/${queued.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(sent.body.status).toBe('sent');
    const wamid = sent.body.provider_message_id;
    expect(wamid).toMatch(/^wamid\./);
    const status = (st: 'sent' | 'delivered' | 'read' | 'failed', ts: number) => FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009990020', status: st, timestamp: ts });
    await post(status('read', 1700000300));
    await post(status('delivered', 1700000200));
    await post(status('sent', 1700000100));
    await processor.drain();
    const after = await s.t.http.get(`/v1/whatsapp/messages/${queued.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(after.body.status).toBe('read');
    expect(after.body.read_at).toBe(new Date(1700000300_000).toISOString());
    expect(after.body.delivered_at).toBe(new Date(1700000200_000).toISOString());
    expect(after.body.sent_at).toBe(new Date(1700000100_000).toISOString());
  });

  it('sends a message.status hook when a message status moves, once per move', async () => {
    const receiver = await new HookReceiver().start();
    try {
      await s.t.http
        .post('/v1/hooks')
        .set('X-API-Key', s.apiKey)
        .send({ url: receiver.url, events: ['message.status'] })
        .expect(201);
      const messages = s.t.app.get(MessagesService);
      const queued = await s.t.db.transaction((m) =>
        messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: '+573009990023', message: { kind: 'text', body: 'Hola' } }),
      );
      await s.t.app.get(SendQueueService).drain();
      const [{ provider_message_id: wamid }] = await s.t.db.query(`SELECT provider_message_id FROM messages WHERE id = $1`, [queued.id]);
      const status = (st: 'delivered' | 'read') => FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009990023', status: st });
      await post(status('delivered'));
      await post(status('delivered')); // Meta's retry
      await post(status('read'));
      await processor.drain();
      await s.t.app.get(HookDispatcher).dispatchDue();
      const bodies = (await receiver.waitFor(3)).map((r) => JSON.parse(r.body));
      expect(bodies.map((b) => [b.type, b.data.id, b.data.status])).toEqual([
        ['message.status', queued.id, 'sent'],
        ['message.status', queued.id, 'delivered'],
        ['message.status', queued.id, 'read'],
      ]);
    } finally {
      await receiver.stop();
      await s.t.db.query('DELETE FROM hooks');
      s.t.app.get(HooksService).subscriptionsChanged();
    }
  });

  it('keeps failed terminal and records the reason', async () => {
    const messages = s.t.app.get(MessagesService);
    const queued = await s.t.db.transaction((m) =>
      messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: '+573009990021', message: { kind: 'text', body: 'Hola' } }),
    );
    await s.t.app.get(SendQueueService).drain();
    const [{ provider_message_id: wamid }] = await s.t.db.query(`SELECT provider_message_id FROM messages WHERE id = $1`, [queued.id]);
    await post(FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009990021', status: 'failed', error: { code: 131026, title: 'Message undeliverable' } }));
    await post(FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009990021', status: 'delivered' }));
    await processor.drain();
    const res = await s.t.http.get(`/v1/whatsapp/messages/${queued.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.error).toEqual({ code: '131026', title: expect.stringContaining('undeliverable') });
  });

  it('retries a status that arrives before its message is known', async () => {
    const wamid = 'wamid.NOT-YET-KNOWN';
    await post(FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009990022', status: 'delivered' }));
    await processor.drain();
    const [event] = await s.t.db.query(`SELECT status, attempts, summary FROM webhook_events ORDER BY id DESC LIMIT 1`);
    expect(event.status).toBe('pending');
    expect(event.summary.unresolved).toHaveLength(1);
    // The send is recorded; once the retry time passes, the status applies.
    const [{ id: lineId }] = [{ id: s.lineId }];
    await s.t.db.query(
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, provider_message_id, status, created_at)
       VALUES ('MSGLATE', $1, $2, '+573009990022', 'outbound', 'text', '{}', $3, 'sent', now())`,
      [s.tenantId, lineId, wamid],
    );
    s.t.clock.advance(10_000);
    await processor.drain();
    const [msg] = await s.t.db.query(`SELECT status FROM messages WHERE id = 'MSGLATE'`);
    expect(msg.status).toBe('delivered');
  });

  it("a tenant's app secret never vouches for another tenant's line", async () => {
    const other = await s.t.newTenant('Mallory');
    s.fake.addPhoneNumber({ id: '777000777', phoneNumber: '+573001239999', accessToken: 'x' });
    await s.t.http
      .post('/v1/whatsapp/numbers')
      .set('X-API-Key', other.apiKey)
      .send({
        phone_number: '+573001239999',
        provider: 'cloud_api',
        phone_number_id: '777000777',
        waba_id: '777000778',
        access_token: 'x',
        app_secret: 'mallory-secret',
        verify_token: 'm',
      })
      .expect(201);
    const forged = FakeGraph.batch(
      FakeGraph.textMessage({ phoneNumberId: '777000777', displayPhone: '573001239999', from: '573009990070', text: 'own line' }),
      FakeGraph.textMessage({ ...line, from: '573009990071', text: 'forged into the victim line' }),
    );
    expect((await FakeGraph.postWebhook(s.webhookUrl, forged, 'mallory-secret')).status).toBe(200);
    await processor.drain();
    const rows = await s.t.db.query(`SELECT phone, tenant_id FROM messages WHERE phone IN ('+573009990070', '+573009990071')`);
    expect(rows).toEqual([{ phone: '+573009990070', tenant_id: other.tenantId }]);
  });

  it('gives up an event claimed again and again without a result, so it cannot block its user', async () => {
    await s.t.db.query(
      `INSERT INTO webhook_events (id, source, line_id, received_at, raw, status, attempts, user_key) VALUES ('WHEPOISON', 'cloud_api', $1, now(), '{}', 'pending', 10, 'poison')`,
      [s.lineId],
    );
    await processor.drain();
    const [row] = await s.t.db.query(`SELECT status, error FROM webhook_events WHERE id = 'WHEPOISON'`);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/abandoned/);
    await s.t.db.query(`DELETE FROM webhook_events WHERE id = 'WHEPOISON'`);
  });

  it('cuts every inbound text to 4,096 characters at ingress, with a flag, and ignores messages with oversized ids', async () => {
    const long = 'a' + '!'.repeat(200_000) + 'a';
    await post(FakeGraph.textMessage({ ...line, from: '573009990040', text: long })).then((r) => expect(r.status).toBe(200));
    const caption = FakeGraph.textMessage({ ...line, from: '573009990041', text: 'x' });
    const change = caption.entry[0].changes[0].value as { messages: Array<Record<string, unknown>> };
    change.messages[0] = {
      ...change.messages[0],
      type: 'image',
      text: undefined,
      image: { id: 'MEDIA1', mime_type: 'image/jpeg', caption: 'c'.repeat(5000), filename: { not: 'a string' } },
    };
    await post(caption).then((r) => expect(r.status).toBe(200));
    await post(FakeGraph.textMessage({ ...line, from: '573009990042', text: 'hola', wamid: 'wamid.' + 'x'.repeat(1000) })).then((r) => expect(r.status).toBe(200));
    await processor.drain();
    const [text] = await s.t.db.query(`SELECT content FROM messages WHERE phone = '+573009990040'`);
    expect(text.content.text).toHaveLength(4096);
    expect(text.content.truncated).toBe(true);
    const [image] = await s.t.db.query(`SELECT content FROM messages WHERE phone = '+573009990041'`);
    expect(image.content.media).toMatchObject({ caption: 'c'.repeat(4096), filename: '[object Object]' });
    expect(image.content.truncated).toBe(true);
    expect(await s.t.db.query(`SELECT 1 FROM messages WHERE phone = '+573009990042'`)).toEqual([]);
    const [ignored] = await s.t.db.query(`SELECT status, summary FROM webhook_events ORDER BY id DESC LIMIT 1`);
    expect(ignored).toMatchObject({ status: 'ignored', summary: { ignored: ['message with an id longer than WhatsApp ids'] } });
    await s.t.db.query(`DELETE FROM media_files WHERE provider_media_id = 'MEDIA1'`); // not for the download tests
  });

  it('refuses a call that no line of ours can verify, leaving no row', async () => {
    const before = await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events`);
    const body = FakeGraph.textMessage({ phoneNumberId: '999999999', displayPhone: '1555', from: '573009990030', text: 'hola', wabaId: '999999999000' });
    expect((await post(body, 'whatever')).status).toBe(401);
    expect((await post(body, null)).status).toBe(401);
    expect((await s.t.db.query(`SELECT count(*)::int AS n FROM webhook_events`))[0].n).toBe(before[0].n);
  });

  it('refuses a body that is not a JSON object', async () => {
    const res = await s.t.http.post('/v1/whatsapp/webhook').set('Content-Type', 'application/json').send('[1,2]');
    expect(res.status).toBe(400);
    const bad = await s.t.http.post('/v1/whatsapp/webhook').set('Content-Type', 'application/json').send('{"entry": [');
    expect(bad.status).toBe(400);
  });

  it('downloads inbound media at once and keeps it with its sha256; a failed download is retried', async () => {
    const bytes = Buffer.from('%PDF-1.4 fake id document');
    s.fake.addMedia('media-ok', bytes, 'application/pdf');
    await post(FakeGraph.documentMessage({ ...line, from: '573009990040', mediaId: 'media-ok', filename: 'cedula.pdf', mimeType: 'application/pdf' }));
    await post(FakeGraph.imageMessage({ ...line, from: '573009990041', mediaId: 'media-later', mimeType: 'image/jpeg' }));
    await processor.drain();
    const downloader = s.t.app.get(MediaDownloaderService);
    await downloader.downloadDue();
    const files = await s.t.db.query(`SELECT provider_media_id, status, sha256, size_bytes, attempts FROM media_files ORDER BY provider_media_id`);
    expect(files).toEqual([
      expect.objectContaining({ provider_media_id: 'media-later', status: 'pending', attempts: 1 }),
      { provider_media_id: 'media-ok', status: 'stored', sha256: createHash('sha256').update(bytes).digest('hex'), size_bytes: bytes.length, attempts: 1 },
    ]);
    // The message is kept while its file is not there yet.
    const [msg] = await s.t.db.query(`SELECT id FROM messages WHERE phone = '+573009990041'`);
    expect(msg).toBeDefined();
    s.fake.addMedia('media-later', Buffer.from('jpeg bytes'), 'image/jpeg');
    expect(await downloader.downloadDue()).toBe(0); // not due yet
    s.t.clock.advance(60_000);
    await downloader.downloadDue();
    const [later] = await s.t.db.query(`SELECT status, sha256 FROM media_files WHERE provider_media_id = 'media-later'`);
    expect(later).toEqual({ status: 'stored', sha256: createHash('sha256').update('jpeg bytes').digest('hex') });
    const api = await s.t.http.get(`/v1/whatsapp/messages/${msg.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(api.body.media[0]).toMatchObject({ status: 'stored', mime_type: 'image/jpeg' });
  });

  it('marks a file failed once its download job runs out of attempts, and tries it no more', async () => {
    await post(FakeGraph.imageMessage({ ...line, from: '573009990140', mediaId: 'media-never', mimeType: 'image/jpeg' }));
    await processor.drain();
    const downloader = s.t.app.get(MediaDownloaderService);
    const file = async () => (await s.t.db.query(`SELECT status, attempts, error FROM media_files WHERE provider_media_id = 'media-never'`))[0];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await downloader.downloadDue();
      expect(await file()).toMatchObject({ status: 'pending', attempts: attempt });
      s.t.clock.advance(10 * 60_000);
    }
    await downloader.downloadDue();
    expect(await file()).toMatchObject({ status: 'failed', attempts: 6, error: expect.any(String) });
    s.t.clock.advance(3_600_000);
    expect(await downloader.downloadDue()).toBe(0);
    expect((await file()).attempts).toBe(6);
  });

  it('enqueues the download jobs of a batch of media messages with one statement, in the batch transaction', async () => {
    for (const n of [1, 2, 3]) s.fake.addMedia(`batch-media-${n}`, Buffer.from(`bytes ${n}`), 'image/jpeg');
    for (const n of [1, 2, 3]) await post(FakeGraph.imageMessage({ ...line, from: `57300999015${n}`, mediaId: `batch-media-${n}`, mimeType: 'image/jpeg' }));
    // Every statement the processor's transactions send.
    const sent: string[] = [];
    const create = s.t.db.createQueryRunner.bind(s.t.db);
    s.t.db.createQueryRunner = ((...args: Parameters<typeof create>) => {
      const runner = create(...args);
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        sent.push(sql.trim());
        return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    }) as typeof s.t.db.createQueryRunner;
    try {
      await processor.drain();
    } finally {
      s.t.db.createQueryRunner = create;
    }
    // One transaction for the three events: one INSERT for their files, one for their jobs, both before COMMIT.
    const jobInserts = sent.filter((q) => q.startsWith('INSERT INTO jobs'));
    expect(jobInserts).toHaveLength(1);
    expect(sent.filter((q) => q.startsWith('INSERT INTO "media_files"'))).toHaveLength(1);
    expect(sent.indexOf(jobInserts[0])).toBeLessThan(sent.lastIndexOf('COMMIT'));
    const jobs = await s.t.db.query(
      `SELECT j.status, f.provider_media_id FROM jobs j JOIN media_files f ON f.id = j.payload->>'mediaFileId'
        WHERE j.queue = 'media.download' AND f.provider_media_id LIKE 'batch-media-%' ORDER BY f.provider_media_id`,
    );
    expect(jobs).toEqual([1, 2, 3].map((n) => ({ status: 'pending', provider_media_id: `batch-media-${n}` })));
    expect(await s.t.app.get(MediaDownloaderService).downloadDue()).toBe(3);
    const files = await s.t.db.query(`SELECT status FROM media_files WHERE provider_media_id LIKE 'batch-media-%'`);
    expect(files).toEqual([{ status: 'stored' }, { status: 'stored' }, { status: 'stored' }]);
  });

  it('accepts every shared fixture and handles or records it as ignored, never a 5xx', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(9);
    let count = 0;
    for (const file of files) {
      const examples = JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Record<
        string,
        { entry: Array<{ id: string; changes: Array<{ value: { metadata?: { phone_number_id: string } } }> }> }
      >;
      for (const [name, body] of Object.entries(examples)) {
        // Route the example to this test's line: its phone_number_id, or its WABA for template events.
        for (const entry of body.entry) {
          entry.id = CLOUD.wabaId;
          for (const change of entry.changes) if (change.value.metadata) change.value.metadata.phone_number_id = CLOUD.phoneNumberId;
        }
        const res = await post(body);
        expect({ example: `${file}#${name}`, status: res.status }).toEqual({ example: `${file}#${name}`, status: 200 });
        count++;
      }
    }
    expect(count).toBeGreaterThan(40);
    s.t.clock.advance(3600_000);
    await processor.drain();
    // Nothing raised an error. Only statuses of messages this test never sent stay pending, for their bounded retries.
    const errored = await s.t.db.query(`SELECT id, error FROM webhook_events WHERE error IS NOT NULL OR status = 'failed'`);
    expect(errored).toEqual([]);
    const waiting = await s.t.db.query(`SELECT summary FROM webhook_events WHERE status = 'pending'`);
    for (const { summary } of waiting) expect(summary.unresolved.length).toBeGreaterThan(0);
  });
});

describe('crash safety', () => {
  it('an event stored but not processed before shutdown is processed after restart', async () => {
    const s = await cloudSetup();
    const body = FakeGraph.textMessage({ ...line, from: '573009990050', text: 'antes del corte' });
    expect((await FakeGraph.postWebhook(s.webhookUrl, body, CLOUD.appSecret)).status).toBe(200);
    const url = s.t.databaseUrl;
    await s.t.app.close(); // the crash: nothing processed it
    const again = await createTestApp({ databaseUrl: url, env: { GRAPH_API_BASE_URL: s.fake.baseUrl, WORKERS_ENABLED: 'true' } });
    try {
      let rows: unknown[] = [];
      for (let i = 0; i < 50 && rows.length === 0; i++) {
        rows = await again.db.query(`SELECT phone FROM messages WHERE phone = '+573009990050'`);
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(rows).toEqual([{ phone: '+573009990050' }]);
    } finally {
      await again.close();
      await s.fake.close();
    }
  });
});

describe('BSP webhook endpoint', () => {
  it('accepts calls for a BSP line without an app secret only with its webhook token, and checks the signature when it has one', async () => {
    const t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    try {
      const { apiKey } = await t.newTenant();
      const open = await t.http
        .post('/v1/whatsapp/numbers')
        .set('X-API-Key', apiKey)
        .send({ phone_number: '+573001239000', provider: 'bsp', api_key: 'k', base_url: 'http://127.0.0.1:9' })
        .expect(201);
      const signed = await t.http
        .post('/v1/whatsapp/numbers')
        .set('X-API-Key', apiKey)
        .send({ phone_number: '+573001239001', provider: 'bsp', api_key: 'k', base_url: 'http://127.0.0.1:9', app_secret: 'bsp-secret' })
        .expect(201);
      expect(open.body.webhook_token).toMatch(/^bwt_/);
      expect(signed.body.webhook_token).toBeUndefined();
      const body = FakeGraph.textMessage({ phoneNumberId: 'x', displayPhone: '573001239000', from: '573009990060', text: 'hola' });
      const raw = JSON.stringify(body);
      await t.http.post(`/v1/whatsapp/webhook/bsp/${open.body.id}`).set('Content-Type', 'application/json').send(raw).expect(401);
      await t.http.post(`/v1/whatsapp/webhook/bsp/${open.body.id}`).query({ token: open.body.webhook_token }).set('Content-Type', 'application/json').send(raw).expect(200);
      await t.http.post(`/v1/whatsapp/webhook/bsp/${signed.body.id}`).set('Content-Type', 'application/json').send(raw).expect(401);
      await t.http
        .post(`/v1/whatsapp/webhook/bsp/${signed.body.id}`)
        .set('Content-Type', 'application/json')
        .set('X-Hub-Signature-256', FakeGraph.signBody('bsp-secret', raw))
        .send(raw)
        .expect(200);
      await t.http.post('/v1/whatsapp/webhook/bsp/WAN00000000000000000000000000').set('Content-Type', 'application/json').send(raw).expect(404);
      await t.app.get(WebhookProcessorService).drain();
      const rows = await t.db.query(`SELECT line_id FROM messages WHERE phone = '+573009990060' ORDER BY id`);
      // The same wamid on two lines: one message on each (a wamid is deduplicated per line), the unsigned call to the
      // signed line recorded nothing.
      expect(rows).toEqual([{ line_id: open.body.id }, { line_id: signed.body.id }]);
    } finally {
      await t.close();
    }
  });
});

describe('per-user order of stored calls', () => {
  it("claims only a user's oldest pending call; other users' calls are not held back", async () => {
    const s = await cloudSetup();
    try {
      const base = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone };
      for (const [from, text] of [
        ['573009990080', 'uno'],
        ['573009990080', 'dos'],
        ['573009990081', 'otro'],
      ]) {
        await FakeGraph.postWebhook(s.webhookUrl, FakeGraph.textMessage({ ...base, from, text }), CLOUD.appSecret);
      }
      const keys = await s.t.db.query(`SELECT user_key FROM webhook_events ORDER BY id`);
      expect(keys.map((k: { user_key: string }) => k.user_key)).toEqual([`${s.lineId}:573009990080`, `${s.lineId}:573009990080`, `${s.lineId}:573009990081`]);
      // Claimed but not processed (a processor elsewhere is on it): the user's second call must wait.
      await s.t.db.query(`UPDATE webhook_events SET locked_until = now() + interval '1 hour' WHERE id = (SELECT min(id) FROM webhook_events)`);
      s.t.clock.set(new Date());
      expect(await s.t.app.get(WebhookProcessorService).processPending()).toBe(1);
      const phones = await s.t.db.query(`SELECT phone FROM messages WHERE direction = 'inbound' ORDER BY id`);
      expect(phones).toEqual([{ phone: '+573009990081' }]);
    } finally {
      await s.close();
    }
  });
});
