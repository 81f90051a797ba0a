import { ConversationsCron } from '../../src/modules/conversations/conversations.cron.js';
import { HookDispatcher } from '../../src/modules/hooks/hook-dispatcher.js';
import { MediaDownloaderService } from '../../src/modules/messages/media-downloader.service.js';
import { SendQueueService } from '../../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../../src/modules/webhooks/webhook-processor.service.js';
import { createTestApp, TestApp, TestAppOptions } from './test-app.js';

export const SANDBOX_LINE = '+14155550100';

export interface SandboxChat {
  t: TestApp;
  apiKey: string;
  tenantId: string;
  lineId: string;
  /** Creates a flow and returns its id. */
  flow(body: object): Promise<string>;
  inbound(flowId: string, message: string): Promise<void>;
  /** The user writes (text, a tapped reply id, or a media placeholder); everything due is then processed and sent. */
  say(from: string, what: string | { reply_id: string; reply_title?: string } | { media_type: 'image' | 'document' }): Promise<void>;
  /** Outbound messages to `phone`, oldest first, as their content. */
  bot(phone: string): Promise<Array<Record<string, unknown>>>;
  lastBot(phone: string): Promise<Record<string, unknown>>;
  process(phone: string): Promise<Record<string, any>>;
  /** Runs every worker once, in dependency order (processing, media, sends, expiry, hooks). */
  work(): Promise<void>;
  close(): Promise<void>;
}

/** A tenant with a sandbox line, driven like a real user through the sandbox API with workers run by hand. */
export async function sandboxChat(options: TestAppOptions = {}): Promise<SandboxChat> {
  const t = await createTestApp({ ...options, env: { WORKERS_ENABLED: 'false', ...options.env } });
  const { apiKey, tenantId } = await t.newTenant();
  const line = await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: SANDBOX_LINE, provider: 'sandbox' }).expect(201);
  const work = async () => {
    await t.app.get(WebhookProcessorService).drain();
    await t.app.get(MediaDownloaderService).downloadDue();
    await t.app.get(SendQueueService).drain();
    await t.app.get(ConversationsCron).expireDue();
    await t.app.get(HookDispatcher).dispatchDue();
  };
  const chat: SandboxChat = {
    t,
    apiKey,
    tenantId,
    lineId: line.body.id,
    async flow(body) {
      const res = await t.http.post('/v1/flows').set('X-API-Key', apiKey).send(body);
      if (res.status !== 201) throw new Error(`flow not created: ${JSON.stringify(res.body)}`);
      return res.body.id ?? res.body.flow_id;
    },
    async inbound(flowId, message) {
      await t.http.post('/v1/whatsapp/inbounds').set('X-API-Key', apiKey).send({ waba_phone_number: SANDBOX_LINE, flow_id: flowId, inbound_message: message }).expect(201);
    },
    async say(from, what) {
      const body = typeof what === 'string' ? { text: what } : what;
      await t.http
        .post('/v1/sandbox/messages')
        .set('X-API-Key', apiKey)
        .send({ waba_phone_number: SANDBOX_LINE, from, ...body })
        .expect(202);
      await work();
    },
    async bot(phone) {
      const rows = await t.db.query(`SELECT content FROM messages WHERE line_id = $1 AND phone = $2 AND direction = 'outbound' ORDER BY id`, [line.body.id, phone]);
      return rows.map((r: { content: Record<string, unknown> }) => r.content);
    },
    async lastBot(phone) {
      return (await chat.bot(phone)).at(-1)!;
    },
    async process(phone) {
      const list = await t.http.get('/v1/processes').query({ phone }).set('X-API-Key', apiKey).expect(200);
      return list.body.data[0];
    },
    work,
    close: () => t.close(),
  };
  return chat;
}
