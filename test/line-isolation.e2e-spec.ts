import { HookDispatcher } from '../src/modules/hooks/hook-dispatcher.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { createTestApp, TestApp } from './support/test-app.js';

/** A tenant with its own cloud_api line (own phone number id and app secret) on the shared fake Graph API. */
interface Tenant {
  tenantId: string;
  apiKey: string;
  lineId: string;
  phoneNumberId: string;
  displayPhone: string;
  appSecret: string;
}

/**
 * Two tenants on one instance: what one tenant's provider or webhooks do must never reach the other tenant's
 * messages, hooks or consents.
 */
describe('two tenants on one instance', () => {
  let t: TestApp;
  let fake: FakeGraph;
  let a: Tenant;
  let b: Tenant;
  let webhookUrl: string;
  let queue: SendQueueService;
  let processor: WebhookProcessorService;

  const addTenant = async (name: string, phoneNumberId: string, displayPhone: string, appSecret: string): Promise<Tenant> => {
    const { tenantId, apiKey } = await t.newTenant(name);
    fake.addPhoneNumber({ id: phoneNumberId, phoneNumber: `+${displayPhone}`, accessToken: `token-${name}` });
    const res = await t.http
      .post('/v1/whatsapp/numbers')
      .set('X-API-Key', apiKey)
      .send({
        phone_number: `+${displayPhone}`,
        provider: 'cloud_api',
        phone_number_id: phoneNumberId,
        waba_id: `${phoneNumberId}9`,
        access_token: `token-${name}`,
        app_secret: appSecret,
        verify_token: `verify-${name}`,
        throughput_mps: 80,
      })
      .expect(201);
    return { tenantId, apiKey, lineId: res.body.id, phoneNumberId, displayPhone, appSecret };
  };

  beforeAll(async () => {
    // No expected token: each line sends with its own.
    fake = await FakeGraph.start({ mode: 'cloud_api' });
    t = await createTestApp({ env: { GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0', WORKERS_ENABLED: 'false' } });
    a = await addTenant('Alpha', '106540352200001', '573001230001', 'alpha-app-secret');
    b = await addTenant('Bravo', '106540352200002', '573001230002', 'bravo-app-secret');
    webhookUrl = `${await t.app.getUrl()}/v1/whatsapp/webhook`.replace('[::1]', '127.0.0.1');
    queue = t.app.get(SendQueueService);
    processor = t.app.get(WebhookProcessorService);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  afterEach(() => fake.reset());

  const enqueue = (who: Tenant, phones: string[]) =>
    t.db.transaction((m) =>
      t.app.get(MessagesService).enqueueMany(
        m,
        phones.map((phone, i) => ({ tenantId: who.tenantId, lineId: who.lineId, phone, message: { kind: 'text' as const, body: `hola ${i}` } })),
      ),
    );
  const rows = (ids: string[]) => t.db.query(`SELECT id, status, provider_message_id, error_code, error_title FROM messages WHERE id = ANY($1) ORDER BY id`, [ids]);
  const lineOf = (who: Tenant) => ({ phoneNumberId: who.phoneNumberId, displayPhone: who.displayPhone });

  it("sends another tenant's messages once and records them sent when one provider answers two sends with the same id", async () => {
    fake.repeatWamid(a.phoneNumberId, 'wamid.ALWAYS-THE-SAME');
    const aPhones = ['+573009910001', '+573009910002'];
    const bPhones = ['+573009920001', '+573009920002', '+573009920003'];
    const aQueued = await enqueue(a, aPhones);
    const bQueued = await enqueue(b, bPhones);
    // One tick takes both lines' lanes: their outcomes are written together.
    expect(await queue.tick()).toBe(5);
    // Past any lease: nothing is due again, nothing is sent twice.
    t.clock.advance(10 * 60_000);
    await queue.drain();
    for (const phone of bPhones) expect(fake.sentTo(phone.slice(1))).toHaveLength(1);
    const bRows = await rows(bQueued.map((m) => m.id));
    expect(bRows.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent', 'sent']);
    expect(bRows.every((r: { provider_message_id: string | null }) => r.provider_message_id?.startsWith('wamid.'))).toBe(true);
    // Alpha's first send keeps the id; the second, given the same id, is a provider error on that message only.
    const aRows = await rows(aQueued.map((m) => m.id));
    expect(aRows).toEqual([
      expect.objectContaining({ status: 'sent', provider_message_id: 'wamid.ALWAYS-THE-SAME', error_code: null }),
      expect.objectContaining({ status: 'failed', provider_message_id: null, error_code: 'DUPLICATE_PROVIDER_ID', error_title: expect.stringContaining('wamid.ALWAYS-THE-SAME') }),
    ]);
    for (const phone of aPhones) expect(fake.sentTo(phone.slice(1))).toHaveLength(1);

    // A later tick whose id is already recorded on the line fails that message alone, too.
    const [late] = await enqueue(a, ['+573009910003']);
    const [other] = await enqueue(b, ['+573009920004']);
    expect(await queue.tick()).toBe(2);
    expect(await rows([late.id, other.id])).toEqual([
      expect.objectContaining({ id: late.id, status: 'failed', error_code: 'DUPLICATE_PROVIDER_ID' }),
      expect.objectContaining({ id: other.id, status: 'sent', error_code: null }),
    ]);
  });

  it("keeps one tenant's message id apart from another's: the same id on two lines is two messages", async () => {
    fake.repeatWamid(a.phoneNumberId, 'wamid.SHARED-BY-TWO-LINES');
    fake.repeatWamid(b.phoneNumberId, 'wamid.SHARED-BY-TWO-LINES');
    const [am] = await enqueue(a, ['+573009910011']);
    const [bm] = await enqueue(b, ['+573009920011']);
    await queue.drain();
    expect((await rows([am.id, bm.id])).map((r: { status: string; provider_message_id: string }) => [r.status, r.provider_message_id])).toEqual([
      ['sent', 'wamid.SHARED-BY-TWO-LINES'],
      ['sent', 'wamid.SHARED-BY-TWO-LINES'],
    ]);
  });

  it("applies a status only on the line that sent the message: another tenant's webhook changes nothing and fires no hook", async () => {
    const receiver = await new HookReceiver().start();
    try {
      await t.http
        .post('/v1/hooks')
        .set('X-API-Key', b.apiKey)
        .send({ url: receiver.url, events: ['message.status'] })
        .expect(201);
      const [bm] = await enqueue(b, ['+573009920021']);
      await queue.drain();
      const [{ provider_message_id: wamid }] = await rows([bm.id]);
      // Alpha signs with its own secret, on its own line, a failure of Bravo's message id.
      const forged = FakeGraph.statusUpdate({ ...lineOf(a), wamid, recipient: '573009920021', status: 'failed', error: { code: 131050, title: 'chosen by Alpha' } });
      expect((await FakeGraph.postWebhook(webhookUrl, forged, a.appSecret)).status).toBe(200);
      await processor.drain();
      await t.app.get(HookDispatcher).dispatchDue();
      const [after] = await t.db.query(`SELECT status, error_code, error_title, failed_at FROM messages WHERE id = $1`, [bm.id]);
      expect(after).toEqual({ status: 'sent', error_code: null, error_title: null, failed_at: null });
      // Bravo's only event is its own send's `sent`, from its queue.
      const events = await t.db.query(`SELECT data->>'status' AS status FROM hook_events WHERE tenant_id = $1`, [b.tenantId]);
      expect(events).toEqual([{ status: 'sent' }]);
      // Neither tenant records an opt-out for a send that is not on the line the status came from.
      const [{ n: optOuts }] = await t.db.query(`SELECT count(*)::int AS n FROM consents WHERE phone = '+573009920021' AND kind = 'opt_out'`);
      expect(optOuts).toBe(0);

      // Bravo's own status for it still applies, and reaches Bravo's hook.
      await FakeGraph.postWebhook(webhookUrl, FakeGraph.statusUpdate({ ...lineOf(b), wamid, recipient: '573009920021', status: 'delivered' }), b.appSecret);
      await processor.drain();
      await t.app.get(HookDispatcher).dispatchDue();
      const hooks = (await receiver.waitFor(2)).map((r) => JSON.parse(r.body));
      expect(hooks.map((h) => [h.type, h.data.id, h.data.status])).toEqual([
        ['message.status', bm.id, 'sent'],
        ['message.status', bm.id, 'delivered'],
      ]);
      expect(receiver.requests).toHaveLength(2);
    } finally {
      await receiver.stop();
    }
  });

  it('records an opt-out from a 131050 status only on the line that sent the message', async () => {
    const [am] = await enqueue(a, ['+573009910031']);
    await queue.drain();
    const [{ provider_message_id: wamid }] = await rows([am.id]);
    const refused = FakeGraph.statusUpdate({ ...lineOf(a), wamid, recipient: '573009910031', status: 'failed', error: { code: 131050, title: 'User opted out of marketing' } });
    await FakeGraph.postWebhook(webhookUrl, refused, a.appSecret);
    await processor.drain();
    expect((await rows([am.id]))[0]).toMatchObject({ status: 'failed', error_code: '131050' });
    const optOuts = await t.db.query(`SELECT tenant_id, line_id FROM consents WHERE phone = '+573009910031' AND kind = 'opt_out'`);
    expect(optOuts).toEqual([{ tenant_id: a.tenantId, line_id: a.lineId }]);
  });

  it('deduplicates inbound messages per line: another tenant cannot claim a message id first and drop the real message', async () => {
    const wamid = FakeGraph.newInboundWamid('573009920041');
    // Alpha's line reports a message with the id that Bravo's user's message will carry.
    await FakeGraph.postWebhook(webhookUrl, FakeGraph.textMessage({ ...lineOf(a), from: '573009910041', wamid, text: 'claimed first' }), a.appSecret);
    await processor.drain();
    await FakeGraph.postWebhook(webhookUrl, FakeGraph.textMessage({ ...lineOf(b), from: '573009920041', wamid, text: 'the real one' }), b.appSecret);
    // Meta delivers at least once: Bravo's message again, as well.
    await FakeGraph.postWebhook(webhookUrl, FakeGraph.textMessage({ ...lineOf(b), from: '573009920041', wamid, text: 'the real one' }), b.appSecret);
    await processor.drain();
    const inbound = await t.db.query(
      `SELECT tenant_id, line_id, phone, content->>'text' AS text FROM messages WHERE provider_message_id = $1 AND direction = 'inbound' ORDER BY id`,
      [wamid],
    );
    expect(inbound).toEqual([
      { tenant_id: a.tenantId, line_id: a.lineId, phone: '+573009910041', text: 'claimed first' },
      { tenant_id: b.tenantId, line_id: b.lineId, phone: '+573009920041', text: 'the real one' },
    ]);
    const [last] = await t.db.query(`SELECT summary FROM webhook_events WHERE line_id = $1 ORDER BY id DESC LIMIT 1`, [b.lineId]);
    expect(last.summary).toMatchObject({ messages: 0, duplicates: 1 });
  });
});
