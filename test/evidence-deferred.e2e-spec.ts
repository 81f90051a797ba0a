import { ConversationsCron } from '../src/modules/conversations/conversations.cron.js';
import { FollowUpsCron } from '../src/modules/reengagement/follow-ups.cron.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';

interface Event {
  seq: number;
  type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
}

/** What the engine does not hold the row for — statuses, follow-ups, hooks — still reaches the process's chain. */
describe('the evidence log: delivery statuses, follow-ups and hooks delivered', () => {
  let c: SandboxChat;
  let receiver: HookReceiver;
  const user = '+573006690001';

  const events = async (processId: string): Promise<Event[]> => (await c.t.http.get(`/v1/processes/${processId}/evidence`).set('X-API-Key', c.apiKey).expect(200)).body.events;
  const append = () => c.t.app.get(ConversationsCron).appendDeferred();

  beforeAll(async () => {
    c = await sandboxChat({ env: { SANDBOX_STATUS_DELAY_MS: '1000' } });
    receiver = await new HookReceiver().start();
    await c.t.http
      .post('/v1/hooks')
      .set('X-API-Key', c.apiKey)
      .send({ url: receiver.url, events: ['process.started', 'process.succeeded'] })
      .expect(201);
    const flowId = await c.flow({
      name: 'Seguimiento',
      steps: [
        { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
        { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
      ],
      settings: { enable_follow_up: true, follow_up_delay: 60, follow_up_message: '¿Seguimos?', start_business_hours: '13:00', end_business_hours: '00:00' },
    });
    await c.inbound(flowId, 'empezar');
    c.t.clock.set('2026-03-02T15:00:00.000Z');
  });
  afterAll(async () => {
    await receiver.stop();
    await c.close();
  });

  it('records the statuses of what the bot sent, the follow-up and the hook deliveries, after the events they follow', async () => {
    await c.say(user, 'empezar');
    const processId = (await c.process(user)).process_id;
    // Nothing deferred is in the chain until the engine appends it.
    c.t.clock.advance(5_000);
    await c.work();
    const before = await events(processId);
    expect(before.some((e) => e.type === 'message.status')).toBe(false);
    expect(await append()).toBe(1);

    let chain = await events(processId);
    const prompt = chain.find((e) => e.type === 'message.queued')!.payload.message_id;
    const statuses = chain.filter((e) => e.type === 'message.status');
    expect(statuses.map((e) => e.payload)).toEqual(
      expect.arrayContaining([
        { message_id: prompt, status: 'delivered', error_code: null },
        { message_id: prompt, status: 'read', error_code: null },
      ]),
    );
    expect(chain.find((e) => e.type === 'hook.delivered')!.payload).toMatchObject({ event_type: 'process.started', attempts: 1, http_status: 200 });
    expect(chain.map((e) => e.seq)).toEqual(chain.map((_, i) => i + 1));

    // The follow-up, sent after the delay, is recorded too; the answer to it is a message like any other.
    c.t.clock.advance(60 * 60_000);
    await c.t.app.get(FollowUpsCron).tick();
    await c.work();
    await append();
    chain = await events(processId);
    expect(chain.filter((e) => e.type === 'follow_up.sent')).toHaveLength(1);

    await c.say(user, 'ana@example.com');
    c.t.clock.advance(5_000);
    await c.work();
    await append();
    chain = await events(processId);
    expect(chain.filter((e) => e.type === 'hook.delivered').map((e) => e.payload.event_type)).toEqual(['process.started', 'process.succeeded']);
    expect((await c.t.http.get(`/v1/processes/${processId}/evidence/verify`).set('X-API-Key', c.apiKey).expect(200)).body).toMatchObject({ valid: true });
    // Drained: a second round finds nothing.
    expect(await append()).toBe(0);
  });
});
