import type { EntityManager } from 'typeorm';
import { DEFAULT_FLOW_SETTINGS, type FlowSettings } from '../src/modules/flows/flow-definition.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { FollowUpsCron } from '../src/modules/reengagement/follow-ups.cron.js';
import { FollowUpsService, type ScheduleFollowUpInput } from '../src/modules/reengagement/follow-ups.service.js';
import { FOLLOW_UP_NO, FOLLOW_UP_YES } from '../src/modules/reengagement/follow-up-rules.js';
import { createTestApp, TestApp } from './support/test-app.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => new Date(iso);

describe('re-engagement follow-ups', () => {
  let t: TestApp;
  let svc: FollowUpsService;
  let cron: FollowUpsCron;
  let tenantId: string;
  let lineId: string;
  let seq = 0;

  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    const tenant = await t.newTenant();
    tenantId = tenant.tenantId;
    lineId = (await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', tenant.apiKey).send({ phone_number: '+14155550100', provider: 'sandbox' }).expect(201)).body.id;
    svc = t.app.get(FollowUpsService);
    cron = t.app.get(FollowUpsCron);
  });
  afterAll(() => t.close());
  // Each test starts with an empty follow-up queue, so tick counts are its own.
  beforeEach(async () => {
    await t.db.query(`DELETE FROM follow_ups`);
    t.clock.set('2026-03-02T15:00:00.000Z');
  });

  const settings = (s: Partial<FlowSettings> = {}): FlowSettings => ({ ...DEFAULT_FLOW_SETTINGS, enable_follow_up: true, ...s });
  const tx = <T>(fn: (m: EntityManager) => Promise<T>) => t.db.transaction(fn);
  function ask(over: Partial<ScheduleFollowUpInput> = {}) {
    const n = ++seq;
    const askedAt = over.askedAt ?? t.clock.now();
    return tx((m) =>
      svc.schedule(m, {
        tenantId,
        processId: `PRC${n}`,
        lineId,
        phone: `+5730012${String(n).padStart(5, '0')}`,
        stepId: 'email',
        askedAt,
        windowClosesAt: new Date(askedAt.getTime() + 24 * HOUR),
        settings: settings(),
        ...over,
      }),
    );
  }
  const messagesOf = (processId: string) =>
    t.db.query(`SELECT id, direction, type, content, status, phone, line_id FROM messages WHERE conversation_id = $1 ORDER BY id`, [processId]);
  const row = async (id: string) => (await t.db.query(`SELECT * FROM follow_ups WHERE id = $1`, [id]))[0];

  it('is sent after the delay, not before: one buttons message with Sí/No in the messages log', async () => {
    const f = (await ask({ settings: settings({ follow_up_delay: 60 }) }))!;
    expect(f).toMatchObject({ status: 'scheduled', dueAt: at('2026-03-02T16:00:00.000Z') });

    t.clock.set('2026-03-02T15:59:00.000Z');
    expect(await cron.tick()).toBe(0);
    expect(await messagesOf(f.processId)).toHaveLength(0);

    t.clock.set('2026-03-02T16:00:00.000Z');
    expect(await cron.tick()).toBe(1);
    const msgs = await messagesOf(f.processId);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({
      direction: 'outbound',
      type: 'buttons',
      status: 'queued',
      phone: f.phone,
      line_id: lineId,
      content: {
        kind: 'buttons',
        body: 'Tienes un proceso activo en curso',
        buttons: [
          { id: FOLLOW_UP_YES, title: 'Sí' },
          { id: FOLLOW_UP_NO, title: 'No' },
        ],
      },
    });
    expect(await row(f.id)).toMatchObject({ status: 'sent', message_id: msgs[0].id, sent_at: at('2026-03-02T16:00:00.000Z') });

    // Claimed once: later ticks send nothing more.
    t.clock.advance(HOUR);
    expect(await cron.tick()).toBe(0);
    await t.app.get(SendQueueService).drain();
    expect((await messagesOf(f.processId)).map((m: { status: string }) => m.status)).toEqual(['sent']);
  });

  it('is postponed to the next window start when the due time falls outside business hours', async () => {
    // Asked 23:30 with a 60-minute delay: 00:30 is outside 13:00–00:00, so 13:00 the next day, which is still
    // inside the 24-hour window opened by the user's message at 23:29.
    const f = (await ask({
      askedAt: at('2026-03-02T23:30:00.000Z'),
      windowClosesAt: at('2026-03-03T23:29:00.000Z'),
      settings: settings({ follow_up_delay: 60, start_business_hours: '13:00', end_business_hours: '00:00' }),
    }))!;
    expect(f.status).toBe('scheduled');
    expect(f.dueAt).toEqual(at('2026-03-03T13:00:00.000Z'));
    t.clock.set('2026-03-03T00:30:00.000Z');
    expect(await cron.tick()).toBe(0);
    t.clock.set('2026-03-03T12:59:59.000Z');
    expect(await cron.tick()).toBe(0);
    t.clock.set('2026-03-03T13:00:00.000Z');
    expect(await cron.tick()).toBe(1);
    expect(await messagesOf(f.processId)).toHaveLength(1);
  });

  it('is skipped, never sent, when the moved due time is past the 24-hour window', async () => {
    // The user last wrote at 08:00, so the window closes 08:00 tomorrow; 22:30 + 120 min → 13:00 tomorrow is too late.
    const f = (await ask({ askedAt: at('2026-03-02T22:30:00.000Z'), windowClosesAt: at('2026-03-03T08:00:00.000Z') }))!;
    expect(f).toMatchObject({ status: 'skipped', skipReason: 'outside_24h_window', dueAt: at('2026-03-03T13:00:00.000Z') });
    t.clock.set('2026-03-03T13:00:00.000Z');
    expect(await cron.tick()).toBe(0);
    expect(await messagesOf(f.processId)).toHaveLength(0);
    expect((await svc.stateOf([f.processId])).get(f.processId)).toEqual({
      status: 'skipped',
      scheduled_at: '2026-03-03T13:00:00.000Z',
      sent_at: null,
      skipped: true,
      skip_reason: 'outside_24h_window',
      answer: null,
      answered_at: null,
    });
  });

  it('is skipped at send time when the window closed while it waited (a late tick)', async () => {
    const f = (await ask({ windowClosesAt: at('2026-03-02T17:30:00.000Z') }))!;
    expect(f).toMatchObject({ status: 'scheduled', dueAt: at('2026-03-02T17:00:00.000Z') });
    t.clock.set('2026-03-02T17:30:00.000Z');
    expect(await cron.tick()).toBe(1);
    expect(await messagesOf(f.processId)).toHaveLength(0);
    expect(await row(f.id)).toMatchObject({ status: 'skipped', skip_reason: 'outside_24h_window', sent_at: null, message_id: null });
  });

  it('is cancelled when the user answers first: nothing goes out at the due time', async () => {
    const f = (await ask())!;
    t.clock.set('2026-03-02T16:10:00.000Z');
    expect(await tx((m) => svc.cancel(m, f.processId, 'answered'))).toBe(1);
    t.clock.set('2026-03-02T17:00:00.000Z');
    expect(await cron.tick()).toBe(0);
    expect(await messagesOf(f.processId)).toHaveLength(0);
    expect(await row(f.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'answered', cancelled_at: at('2026-03-02T16:10:00.000Z') });
    // Nothing left to cancel.
    expect(await tx((m) => svc.cancel(m, f.processId, 'cancelled'))).toBe(0);
  });

  it('sends nothing when the flow does not enable follow-ups', async () => {
    expect(await ask({ settings: { ...DEFAULT_FLOW_SETTINGS } })).toBeNull();
    expect(await ask({ settings: { follow_up_delay: 30 } })).toBeNull();
    expect(await ask({ settings: settings({ enable_follow_up: false }) })).toBeNull();
    t.clock.advance(48 * HOUR);
    expect(await cron.tick()).toBe(0);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM follow_ups`))[0].n).toBe(0);
  });

  it('keeps at most one follow-up per unanswered question', async () => {
    const f = (await ask())!;
    const input = { tenantId, processId: f.processId, lineId, phone: f.phone, stepId: 'email', settings: settings() };
    const again = await tx((m) => svc.schedule(m, { ...input, askedAt: at('2026-03-02T15:20:00.000Z'), windowClosesAt: at('2026-03-03T15:20:00.000Z') }));
    expect(again!.id).toBe(f.id);

    // Sent, the user taps yes, the engine asks the same question again: no second follow-up for it.
    t.clock.set('2026-03-02T17:00:00.000Z');
    expect(await cron.tick()).toBe(1);
    const pending = (await tx((m) => svc.findPendingAnswer(m, f.processId)))!;
    await tx((m) => svc.recordAnswer(m, pending.id, 'yes'));
    const reasked = await tx((m) => svc.schedule(m, { ...input, askedAt: t.clock.now(), windowClosesAt: new Date(t.clock.now().getTime() + 24 * HOUR) }));
    expect(reasked).toMatchObject({ id: f.id, status: 'answered', answer: 'yes' });
    t.clock.advance(24 * HOUR);
    expect(await cron.tick()).toBe(0);
    expect(await messagesOf(f.processId)).toHaveLength(1);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM follow_ups WHERE process_id = $1`, [f.processId]))[0].n).toBe(1);
  });

  it('a new question replaces the pending follow-up of the previous one; a question answered first may get its own later', async () => {
    const f = (await ask())!;
    const input = { tenantId, processId: f.processId, lineId, phone: f.phone, settings: settings() };
    t.clock.set('2026-03-02T15:30:00.000Z');
    const next = (await tx((m) => svc.schedule(m, { ...input, stepId: 'birthdate', askedAt: t.clock.now(), windowClosesAt: new Date(t.clock.now().getTime() + 24 * HOUR) })))!;
    expect(next.id).not.toBe(f.id);
    expect(await row(f.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'answered' });
    // `email` was answered before its follow-up went out; asked again (e.g. the engine goes back to it), it is a new wait.
    const back = (await tx((m) => svc.schedule(m, { ...input, stepId: 'email', askedAt: t.clock.now(), windowClosesAt: new Date(t.clock.now().getTime() + 24 * HOUR) })))!;
    expect(back.id).not.toBe(f.id);
    expect(back.status).toBe('scheduled');
    expect(await row(next.id)).toMatchObject({ status: 'cancelled' });
    t.clock.set('2026-03-02T17:30:00.000Z');
    expect(await cron.tick()).toBe(1);
    expect(await messagesOf(f.processId)).toHaveLength(1);
  });

  it('records yes and no taps once; any other reply closes the pending follow-up', async () => {
    const [a, b, c] = [(await ask())!, (await ask())!, (await ask())!];
    t.clock.set('2026-03-02T17:00:00.000Z');
    expect(await cron.tick()).toBe(3);
    t.clock.set('2026-03-02T17:05:00.000Z');

    const pa = (await tx((m) => svc.findPendingAnswer(m, a.processId)))!;
    expect(pa.id).toBe(a.id);
    expect(await tx((m) => svc.recordAnswer(m, pa.id, 'yes'))).toMatchObject({ status: 'answered', answer: 'yes', answeredAt: at('2026-03-02T17:05:00.000Z') });
    expect(await tx((m) => svc.findPendingAnswer(m, a.processId))).toBeNull();
    expect(await tx((m) => svc.recordAnswer(m, pa.id, 'no'))).toBeNull(); // a second tap changes nothing
    expect(await row(a.id)).toMatchObject({ answer: 'yes' });

    expect(await tx((m) => svc.recordAnswer(m, b.id, 'no'))).toMatchObject({ answer: 'no' });

    // The user typed something else: the engine answers the question and cancels; the buttons no longer count.
    expect(await tx((m) => svc.cancel(m, c.processId, 'answered'))).toBe(1);
    expect(await tx((m) => svc.findPendingAnswer(m, c.processId))).toBeNull();
    expect(await tx((m) => svc.recordAnswer(m, c.id, 'yes'))).toBeNull();

    const states = await svc.stateOf([a.processId, b.processId, c.processId, 'PRC-none']);
    expect(states.get(a.processId)).toEqual({
      status: 'answered',
      scheduled_at: '2026-03-02T17:00:00.000Z',
      sent_at: '2026-03-02T17:00:00.000Z',
      skipped: false,
      skip_reason: null,
      answer: 'yes',
      answered_at: '2026-03-02T17:05:00.000Z',
    });
    expect(states.get(b.processId)).toMatchObject({ status: 'answered', answer: 'no' });
    expect(states.get(c.processId)).toMatchObject({ status: 'cancelled', sent_at: '2026-03-02T17:00:00.000Z', answer: null });
    expect(states.has('PRC-none')).toBe(false);
  });

  it('titles the buttons in the flow language', async () => {
    const en = (await ask({ settings: settings({ language: 'en', follow_up_message: 'Still there?' }) }))!;
    const pt = (await ask({ settings: settings({ language: 'pt-BR' }) }))!;
    t.clock.set('2026-03-02T17:00:00.000Z');
    expect(await cron.tick()).toBe(2);
    expect((await messagesOf(en.processId))[0].content).toEqual({
      kind: 'buttons',
      body: 'Still there?',
      buttons: [
        { id: FOLLOW_UP_YES, title: 'Yes' },
        { id: FOLLOW_UP_NO, title: 'No' },
      ],
    });
    expect((await messagesOf(pt.processId))[0].content.buttons.map((b: { title: string }) => b.title)).toEqual(['Sim', 'Não']);
  });

  it('claims due rows through the partial index on due_at', async () => {
    const [idx] = await t.db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'follow_ups_due_idx'`);
    expect(idx.indexdef).toMatch(/\(due_at\) WHERE \(status = 'scheduled'::text\)/);
    const [uq] = await t.db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'follow_ups_scheduled_process_uq'`);
    expect(uq.indexdef).toMatch(/UNIQUE INDEX .*\(process_id\) WHERE \(status = 'scheduled'::text\)/);
  });

  it('two app instances ticking at once send each follow-up exactly once', async () => {
    const other = await createTestApp({ env: { WORKERS_ENABLED: 'false' }, databaseUrl: t.databaseUrl, clock: t.clock });
    try {
      const ids: string[] = [];
      await tx(async (m) => {
        for (let i = 0; i < 300; i++) {
          const n = ++seq;
          const f = await svc.schedule(m, {
            tenantId,
            processId: `PRC${n}`,
            lineId,
            phone: `+5730013${String(n).padStart(5, '0')}`,
            stepId: 'email',
            askedAt: t.clock.now(),
            windowClosesAt: new Date(t.clock.now().getTime() + 24 * HOUR),
            settings: settings({ follow_up_delay: 30 + (i % 60) }),
          });
          ids.push(f!.processId);
        }
      });
      t.clock.set('2026-03-02T17:00:00.000Z');
      const [a, b] = await Promise.all([cron.tick(25), other.app.get(FollowUpsCron).tick(25)]);
      expect(a + b).toBe(300);
      const [counts] = await t.db.query(
        `SELECT count(*)::int AS messages, count(DISTINCT conversation_id)::int AS processes FROM messages WHERE conversation_id = ANY($1::text[])`,
        [ids],
      );
      expect(counts).toEqual({ messages: 300, processes: 300 });
      const [sent] = await t.db.query(`SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS m FROM follow_ups WHERE status = 'sent' AND process_id = ANY($1::text[])`, [
        ids,
      ]);
      expect(sent).toEqual({ n: 300, m: 300 });
    } finally {
      await other.app.close();
    }
  });
});
