import { Injectable, Module } from '@nestjs/common';
import {
  INBOUND_ORDER,
  InboundChain,
  RegisterInboundInterceptor,
  type InboundContext,
  type InboundInterceptor,
  type InterceptResult,
} from '../src/modules/conversations/inbound-chain.js';
import { MessagesModule } from '../src/modules/messages/messages.module.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { RegisterStepType, type StepChecker, type StepContext, type StepEntry, type StepOutcome, type StepType, type UserInput } from '../src/modules/flows/steps/step-type.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';

interface ShoutStep {
  id: string;
  type: 'shout';
  next?: string;
  text: string;
}

/**
 * A seventh step type, from a module outside flows/ and conversations/: it asks for a word and accepts it in capitals,
 * computed by the database inside the engine's transaction (so: async, with a service at hand); "otra vez" keeps it
 * waiting without counting an attempt.
 */
@Injectable()
@RegisterStepType({ type: 'shout', summary: 'Repeats a word in capitals', schema: { properties: { text: { type: 'string' }, next: { type: 'string' } }, required: ['text'] } })
class ShoutStepType implements StepType<ShoutStep> {
  readonly fields = ['text', 'next'];
  check(_s: Record<string, unknown>, c: StepChecker): void {
    c.text('text', 100);
  }
  exits(s: ShoutStep) {
    return [{ field: 'next', next: s.next }];
  }
  enter(step: ShoutStep): StepEntry {
    return { send: [{ kind: 'text', body: step.text }], then: { kind: 'wait' } };
  }
  async answer(_step: ShoutStep, input: UserInput, ctx: StepContext): Promise<StepOutcome> {
    if (input.text === 'otra vez') return { kind: 'stay', value: input.text, send: [{ kind: 'text', body: 'Dime una palabra' }] };
    if (!input.text || /\s/.test(input.text)) return { kind: 'invalid', value: input.text, error: 'not_a_word', reply: 'Solo una palabra' };
    const [{ loud }] = await ctx.manager.query(`SELECT upper($1) AS loud`, [input.text]);
    return { kind: 'accept', value: input.text, normalized: `${loud}!` };
  }
}

/** An interceptor from outside: "ping" is answered "pong" before the exit keywords and the engine see it. */
@Injectable()
@RegisterInboundInterceptor({ order: INBOUND_ORDER.exitKeywords - 50, name: 'ping' })
class PingInterceptor implements InboundInterceptor {
  constructor(private readonly messages: MessagesService) {}
  async handle(ctx: InboundContext): Promise<InterceptResult> {
    if (ctx.ev.text?.trim().toLowerCase() !== 'ping') return 'continue';
    await this.messages.enqueue(ctx.manager, { tenantId: ctx.line.tenantId, lineId: ctx.line.id, phone: ctx.phone, message: { kind: 'text', body: 'pong' } });
    return 'handled';
  }
}

@Module({ imports: [MessagesModule], providers: [ShoutStepType, PingInterceptor] })
class ShoutModule {}

describe('the engine is open to other modules', () => {
  let chat: SandboxChat;
  beforeAll(async () => {
    chat = await sandboxChat({ imports: [ShoutModule] });
  });
  afterAll(() => chat.close());

  const flow = {
    name: 'Shout',
    steps: [
      { id: 'word', type: 'shout', text: 'Una palabra' },
      { id: 'done', type: 'end', outcome: 'succeeded', text: 'Hecho' },
    ],
  };

  it('validates a registered type with its own checks', async () => {
    const res = await chat.t.http
      .post('/v1/flows')
      .set('X-API-Key', chat.apiKey)
      .send({ ...flow, steps: [{ id: 'word', type: 'shout', loud: true }, flow.steps[1]] })
      .expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['steps[0].loud', 'steps[0].text']);
    const unknown = await chat.t.http
      .post('/v1/flows')
      .set('X-API-Key', chat.apiKey)
      .send({ ...flow, steps: [{ id: 'x', type: 'whisper', text: 'a' }, flow.steps[1]] })
      .expect(400);
    expect(unknown.body.details[0].messages[0]).toMatch(/type must be one of: .*shout/);
  });

  it('runs a process through it end to end in the sandbox', async () => {
    const flowId = await chat.flow(flow);
    await chat.inbound(flowId, 'grita');
    const from = '+573004440001';
    await chat.say(from, 'grita');
    expect(await chat.lastBot(from)).toMatchObject({ body: 'Una palabra' });
    await chat.say(from, 'dos palabras');
    expect((await chat.bot(from)).slice(-2)).toEqual([expect.objectContaining({ body: 'Solo una palabra' }), expect.objectContaining({ body: 'Una palabra' })]);
    await chat.say(from, 'otra vez');
    expect(await chat.lastBot(from)).toMatchObject({ body: 'Dime una palabra' });
    await chat.say(from, 'hola');
    const process = await chat.process(from);
    expect(process).toMatchObject({ status: 'succeeded', answers: { word: { value: 'hola', normalized: 'HOLA!', valid: true } } });
    expect(await chat.lastBot(from)).toMatchObject({ body: 'Hecho' });
  });

  it('runs every message through the inbound chain in its explicit order, with interceptors from other modules', async () => {
    expect(chat.t.app.get(InboundChain).names()).toEqual(['consent-keywords@100', 'invitation-taps@200', 'ping@250', 'exit-keywords@300', 'engine@1000']);
    const flowId = await chat.flow(flow);
    await chat.inbound(flowId, 'grita fuerte');
    const from = '+573004440002';
    await chat.say(from, 'grita fuerte');
    // In a running process, "ping" is answered by the interceptor and never reaches the step.
    await chat.say(from, 'ping');
    expect(await chat.lastBot(from)).toMatchObject({ body: 'pong' });
    expect((await chat.process(from)).status).toBe('pending');
    // The exit keywords come after it and still end the process.
    await chat.say(from, 'salir');
    expect(await chat.process(from)).toMatchObject({ status: 'cancelled', failure_reason: 'user_cancelled' });
  });
});
