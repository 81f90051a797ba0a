import { HookDispatcher } from '../src/modules/hooks/hook-dispatcher.js';
import { HooksService } from '../src/modules/hooks/hooks.service.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';
import { sandboxChat, SandboxChat } from './support/sandbox-chat.js';

const line = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone };
type Hooked = { type: string; data: { id: string; status: string; error: { code: string } | null } };

describe('message.status hooks on every move (Cloud API line)', () => {
  let s: CloudSetup;
  let receiver: HookReceiver;
  beforeAll(async () => {
    s = await cloudSetup();
    receiver = await new HookReceiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
    await s.close();
  });
  afterEach(async () => {
    await s.t.db.query('DELETE FROM hooks');
    s.t.app.get(HooksService).subscriptionsChanged();
    receiver.requests.length = 0;
  });

  const subscribe = () =>
    s.t.http
      .post('/v1/hooks')
      .set('X-API-Key', s.apiKey)
      .send({ url: receiver.url, events: ['message.status'] })
      .expect(201);
  const enqueue = (phone: string) =>
    s.t.db.transaction((m) => s.t.app.get(MessagesService).enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone, message: { kind: 'text', body: 'Hola' } }));
  const post = (body: object) => FakeGraph.postWebhook(s.webhookUrl, body, CLOUD.appSecret);
  const hooksOf = async (messageId: string) => {
    await s.t.app.get(HookDispatcher).dispatchDue();
    return receiver.requests.map((r) => JSON.parse(r.body) as Hooked).filter((b) => b.data.id === messageId);
  };

  it('sends sent from the queue, then delivered and read from the webhooks, each once and in order', async () => {
    await subscribe();
    const queued = await enqueue('+573009991001');
    await s.t.app.get(SendQueueService).drain();
    const [{ provider_message_id: wamid }] = await s.t.db.query(`SELECT provider_message_id FROM messages WHERE id = $1`, [queued.id]);
    const status = (st: 'sent' | 'delivered' | 'read') => FakeGraph.statusUpdate({ ...line, wamid, recipient: '573009991001', status: st });
    await post(status('sent')); // Meta's own `sent` moves nothing: the queue already recorded it
    await post(status('delivered'));
    await post(status('delivered'));
    await post(status('read'));
    await s.t.app.get(WebhookProcessorService).drain();
    const hooks = await hooksOf(queued.id);
    expect(hooks.map((h) => [h.type, h.data.status])).toEqual([
      ['message.status', 'sent'],
      ['message.status', 'delivered'],
      ['message.status', 'read'],
    ]);
    // The event is stored with the move: the row says sent when its hook does.
    const [event] = await s.t.db.query(`SELECT data FROM hook_events WHERE type = 'message.status' AND data->>'id' = $1 ORDER BY id LIMIT 1`, [queued.id]);
    expect(event.data).toMatchObject({ status: 'sent', provider_message_id: wamid });
  });

  it('sends failed with the normalised code when the queue gives up at once', async () => {
    await subscribe();
    s.fake.failNext(1, { code: 131047, message: 'Re-engagement message' });
    const queued = await enqueue('+573009991002');
    await s.t.app.get(SendQueueService).drain();
    const hooks = await hooksOf(queued.id);
    expect(hooks.map((h) => [h.data.status, h.data.error?.code])).toEqual([['failed', 'OUTSIDE_WINDOW']]);
  });

  it('sends failed once when the queue gives up after its retries, and nothing for the retries themselves', async () => {
    await subscribe();
    s.fake.failNext(8, { httpStatus: 500, code: 131000, message: 'Something went wrong' });
    const queued = await enqueue('+573009991003');
    const queue = s.t.app.get(SendQueueService);
    for (let i = 0; i < 8; i++) {
      await queue.drain();
      s.t.clock.advance(30 * 60_000);
    }
    const [row] = await s.t.db.query(`SELECT status, attempts, error_code FROM messages WHERE id = $1`, [queued.id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 8 });
    const hooks = await hooksOf(queued.id);
    expect(hooks.map((h) => [h.data.status, h.data.error?.code])).toEqual([['failed', row.error_code]]);
    expect(row.error_code).toBe('TRANSIENT');
  });

  it('writes no hook event when no hook takes message.status', async () => {
    await s.t.http
      .post('/v1/hooks')
      .set('X-API-Key', s.apiKey)
      .send({ url: receiver.url, events: ['process.started'] })
      .expect(201);
    const before = await s.t.db.query(`SELECT count(*)::int AS n FROM hook_events`);
    const queued = await enqueue('+573009991004');
    await s.t.app.get(SendQueueService).drain();
    expect((await s.t.db.query(`SELECT status FROM messages WHERE id = $1`, [queued.id]))[0].status).toBe('sent');
    expect((await s.t.db.query(`SELECT count(*)::int AS n FROM hook_events`))[0].n).toBe(before[0].n);
  });

  it('batches a tick of many sends into one event each', async () => {
    await subscribe();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await enqueue(`+5730099920${String(10 + i)}`)).id);
    await s.t.app.get(SendQueueService).drain();
    const rows = await s.t.db.query(`SELECT data->>'id' AS id, data->>'status' AS status FROM hook_events WHERE data->>'id' = ANY($1) ORDER BY id`, [ids]);
    expect(rows.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(new Set(rows.map((r: { status: string }) => r.status))).toEqual(new Set(['sent']));
  });
});

describe('sandbox statuses', () => {
  let c: SandboxChat;
  let receiver: HookReceiver;
  beforeAll(async () => {
    c = await sandboxChat({ env: { SANDBOX_STATUS_DELAY_MS: '1000' } });
    receiver = await new HookReceiver().start();
    await c.t.http
      .post('/v1/hooks')
      .set('X-API-Key', c.apiKey)
      .send({ url: receiver.url, events: ['message.status'] })
      .expect(201);
  });
  afterAll(async () => {
    await receiver.stop();
    await c.close();
  });

  it('simulates delivered, then read, after the configured delay, through the webhook path, with a hook for each move', async () => {
    const user = '+573009993001';
    const queued = await c.t.db.transaction((m) =>
      c.t.app.get(MessagesService).enqueue(m, { tenantId: c.tenantId, lineId: c.lineId, phone: user, message: { kind: 'text', body: 'Hola' } }),
    );
    await c.work();
    const statusOf = async () => (await c.t.db.query(`SELECT status FROM messages WHERE id = $1`, [queued.id]))[0].status;
    expect(await statusOf()).toBe('sent');
    c.t.clock.advance(999);
    await c.work();
    expect(await statusOf()).toBe('sent');
    c.t.clock.advance(1);
    await c.work();
    expect(await statusOf()).toBe('delivered');
    c.t.clock.advance(1000);
    await c.work();
    expect(await statusOf()).toBe('read');
    const events = await c.t.db.query(`SELECT source, status FROM webhook_events WHERE line_id = $1 AND raw LIKE '%"statuses"%'`, [c.lineId]);
    expect(events).toEqual([
      { source: 'sandbox', status: 'processed' },
      { source: 'sandbox', status: 'processed' },
    ]);
    const hooks = receiver.requests.map((r) => JSON.parse(r.body) as Hooked).filter((b) => b.data.id === queued.id);
    expect(hooks.map((h) => h.data.status)).toEqual(['sent', 'delivered', 'read']);
  });

  it("a user's reply is not held back by the statuses still waiting", async () => {
    const user = '+573009993002';
    await c.t.db.transaction((m) => c.t.app.get(MessagesService).enqueue(m, { tenantId: c.tenantId, lineId: c.lineId, phone: user, message: { kind: 'text', body: 'Hola' } }));
    await c.work();
    await c.say(user, 'una respuesta');
    const inbound = await c.t.db.query(`SELECT count(*)::int AS n FROM messages WHERE phone = $1 AND direction = 'inbound'`, [user]);
    expect(inbound[0].n).toBe(1);
  });

  it('simulates nothing when SANDBOX_STATUS_DELAY_MS=off', async () => {
    const off = await sandboxChat({ env: { SANDBOX_STATUS_DELAY_MS: 'off' } });
    try {
      const queued = await off.t.db.transaction((m) =>
        off.t.app.get(MessagesService).enqueue(m, { tenantId: off.tenantId, lineId: off.lineId, phone: '+573009993003', message: { kind: 'text', body: 'Hola' } }),
      );
      await off.work();
      off.t.clock.advance(3_600_000);
      await off.work();
      expect((await off.t.db.query(`SELECT status FROM messages WHERE id = $1`, [queued.id]))[0].status).toBe('sent');
      expect((await off.t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE raw LIKE '%"statuses"%'`))[0].n).toBe(0);
    } finally {
      await off.close();
    }
  });
});
