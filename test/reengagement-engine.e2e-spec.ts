import { FollowUpsCron } from '../src/modules/reengagement/follow-ups.cron.js';
import { FOLLOW_UP_NO, FOLLOW_UP_YES } from '../src/modules/reengagement/follow-up-rules.js';
import { sandboxChat, SandboxChat } from './support/sandbox-chat.js';

const FLOW = {
  name: 'with follow-up',
  steps: [
    { id: 'name', type: 'question', text: '¿Cómo te llamas?', validator: { type: 'text' } },
    { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
  settings: { enable_follow_up: true, follow_up_delay: 60, follow_up_message: '¿Seguimos?', start_business_hours: '13:00', end_business_hours: '00:00' },
};

describe('re-engagement in conversations', () => {
  let c: SandboxChat;
  beforeAll(async () => {
    c = await sandboxChat();
    const flowId = await c.flow(FLOW);
    await c.inbound(flowId, 'seguir');
    const off = await c.flow({ ...FLOW, name: 'no follow-up', settings: { enable_follow_up: false } });
    await c.inbound(off, 'sin seguimiento');
    const slow = await c.flow({ ...FLOW, name: 'slow follow-up', settings: { ...FLOW.settings, follow_up_delay: 1380 } });
    await c.inbound(slow, 'despacio');
  });
  afterAll(() => c.close());

  const tick = async () => {
    await c.t.app.get(FollowUpsCron).tick();
    await c.work();
  };
  const start = async (user: string, text = 'seguir') => {
    c.t.clock.set('2026-03-02T15:00:00.000Z'); // 10:00 in UTC−5, inside the 13:00–00:00 UTC window
    await c.say(user, text);
  };

  it('sends one yes/no follow-up after the delay; yes asks the same question again', async () => {
    const user = '+573006660001';
    await start(user);
    c.t.clock.advance(59 * 60_000);
    await tick();
    expect(await c.lastBot(user)).toEqual({ kind: 'text', body: '¿Cómo te llamas?' });
    c.t.clock.advance(60_000);
    await tick();
    expect(await c.lastBot(user)).toEqual({
      kind: 'buttons',
      body: '¿Seguimos?',
      buttons: [
        { id: FOLLOW_UP_YES, title: 'Sí' },
        { id: FOLLOW_UP_NO, title: 'No' },
      ],
    });
    expect((await c.process(user)).follow_up).toMatchObject({ status: 'sent', scheduled_at: '2026-03-02T16:00:00.000Z', answer: null });
    c.t.clock.advance(3 * 3600_000);
    await tick();
    expect((await c.bot(user)).filter((m) => m.kind === 'buttons')).toHaveLength(1); // never a second one for the question
    await c.say(user, { reply_id: FOLLOW_UP_YES, reply_title: 'Sí' });
    expect(await c.lastBot(user)).toEqual({ kind: 'text', body: '¿Cómo te llamas?' });
    const p = await c.process(user);
    expect(p).toMatchObject({ status: 'pending', current_step_id: 'name', follow_up: { status: 'answered', answer: 'yes' } });
    await c.say(user, 'Ana');
    expect((await c.process(user)).current_step_id).toBe('email');
  });

  it('no ends the process as failed, reason user_cancelled', async () => {
    const user = '+573006660002';
    await start(user);
    c.t.clock.advance(61 * 60_000);
    await tick();
    await c.say(user, { reply_id: FOLLOW_UP_NO, reply_title: 'No' });
    expect(await c.process(user)).toMatchObject({ status: 'failed', failure_reason: 'user_cancelled', follow_up: { answer: 'no' } });
  });

  it('answering first cancels the follow-up', async () => {
    const user = '+573006660003';
    await start(user);
    c.t.clock.advance(30 * 60_000);
    await c.say(user, 'Ana'); // answers "name"; "email" is now waiting with its own follow-up
    c.t.clock.advance(40 * 60_000);
    await tick();
    expect((await c.bot(user)).filter((m) => m.kind === 'buttons')).toHaveLength(0);
    expect((await c.process(user)).follow_up).toMatchObject({ status: 'scheduled' });
  });

  it('postpones to the window start, and skips when that is past the 24-hour window', async () => {
    const user = '+573006660004';
    c.t.clock.set('2026-03-02T23:30:00.000Z'); // due 00:30, outside 13:00–00:00: moved to 13:00 next day
    await c.say(user, 'seguir');
    expect((await c.process(user)).follow_up).toMatchObject({ status: 'scheduled', scheduled_at: '2026-03-03T13:00:00.000Z' });
    c.t.clock.set('2026-03-03T12:59:00.000Z');
    await tick();
    expect((await c.bot(user)).filter((m) => m.kind === 'buttons')).toHaveLength(0);
    c.t.clock.set('2026-03-03T13:00:00.000Z');
    await tick();
    expect((await c.bot(user)).filter((m) => m.kind === 'buttons')).toHaveLength(1);

    // Asked at 02:00 with a 23-hour delay: due 01:00 next day, outside the window; the next start (13:00) is 35 hours
    // after the user's last message, past WhatsApp's 24-hour window: skipped, and the process expires with the window.
    const late = '+573006660005';
    c.t.clock.set('2026-03-02T02:00:00.000Z');
    await c.say(late, 'despacio');
    expect((await c.process(late)).follow_up).toMatchObject({ status: 'skipped', skipped: true, skip_reason: 'outside_24h_window', sent_at: null });
    c.t.clock.set('2026-03-03T02:00:00.000Z');
    await tick();
    expect((await c.bot(late)).filter((m) => m.kind === 'buttons')).toHaveLength(0);
    expect(await c.process(late)).toMatchObject({ status: 'expired', failure_reason: 'expired' });
  });

  it('a flow without follow-ups sends none', async () => {
    const user = '+573006660007';
    await start(user, 'sin seguimiento');
    c.t.clock.advance(5 * 3600_000);
    await tick();
    expect((await c.bot(user)).filter((m) => m.kind === 'buttons')).toHaveLength(0);
    expect((await c.process(user)).follow_up).toBeNull();
  });
});
