import { Webhook } from 'standardwebhooks';
import { SandboxAdapter } from '../src/whatsapp/sandbox/sandbox.adapter.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { sandboxChat, SandboxChat } from './support/sandbox-chat.js';

const KYC = {
  name: 'KYC',
  steps: [
    { id: 'welcome', type: 'message', text: 'Hola, vamos a validar tu identidad.' },
    { id: 'terms', type: 'consent', text: '¿Aceptas el tratamiento de tus datos?' },
    {
      id: 'doc',
      type: 'choice',
      style: 'buttons',
      text: '¿Qué documento tienes?',
      options: [
        { id: 'cc', title: 'Cédula' },
        { id: 'pp', title: 'Pasaporte', next: 'email' },
      ],
    },
    { id: 'cedula', type: 'question', text: 'Tu número de cédula', validator: { type: 'national_id', country: 'CO' } },
    { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' }, error_text: 'Ese correo no es válido', max_attempts: 3 },
    {
      id: 'income',
      type: 'choice',
      style: 'list',
      text: '¿Tus ingresos mensuales?',
      button_text: 'Elegir',
      options: [
        { id: 'low', title: 'Menos de 1 millón', next: 'photo' },
        { id: 'mid', title: 'De 1 a 5 millones', next: 'photo' },
        { id: 'high', title: 'Más de 5 millones', next: 'review' },
      ],
    },
    { id: 'review', type: 'end', outcome: 'failed', text: 'Un asesor te contactará.', failure_reason: 'manual_review' },
    { id: 'photo', type: 'media', text: 'Envía una foto de tu documento', accept: ['image', 'document'] },
    { id: 'done', type: 'end', outcome: 'succeeded', text: '¡Listo! Validación completa.' },
  ],
};

describe('conversation engine (sandbox)', () => {
  let c: SandboxChat;
  let flowId: string;
  let receiver: HookReceiver;
  let hookSecret: string;
  beforeAll(async () => {
    c = await sandboxChat();
    flowId = await c.flow(KYC);
    await c.inbound(flowId, 'Quiero validar mi identidad');
    receiver = await new HookReceiver().start();
    const hook = await c.t.http
      .post('/v1/hooks')
      .set('X-API-Key', c.apiKey)
      .send({ url: receiver.url, events: ['process.started', 'process.succeeded', 'process.failed'] })
      .expect(201);
    hookSecret = hook.body.secret;
  });
  afterAll(async () => {
    await receiver.stop();
    await c.close();
  });

  const hooksFor = (processId: string) => receiver.requests.map((r) => ({ r, body: JSON.parse(r.body) })).filter(({ body }) => body.data.process_id === processId);

  it('runs a flow with every step type to success, with media kept by sha256 and signed hooks', async () => {
    const user = '+573005550001';
    await c.say(user, '  quiero VALIDAR   mi identidád ');
    expect((await c.bot(user)).map((m) => m.kind)).toEqual(['text', 'buttons']);
    await c.say(user, { reply_id: 'consent:accept' });
    expect(await c.lastBot(user)).toMatchObject({
      kind: 'buttons',
      body: '¿Qué documento tienes?',
      buttons: [
        { id: 'cc', title: 'Cédula' },
        { id: 'pp', title: 'Pasaporte' },
      ],
    });
    await c.say(user, 'cedula'); // free text matching a title, accents ignored
    expect(await c.lastBot(user)).toMatchObject({ body: 'Tu número de cédula' });
    await c.say(user, '1.020.304.050');
    await c.say(user, 'ana@example.com');
    expect(await c.lastBot(user)).toMatchObject({ kind: 'list', buttonText: 'Elegir' });
    await c.say(user, { reply_id: 'mid' });
    await c.say(user, { media_type: 'image' });
    expect(await c.lastBot(user)).toEqual({ kind: 'text', body: '¡Listo! Validación completa.' });
    const p = await c.process(user);
    expect(p).toMatchObject({ status: 'succeeded', failure_reason: null, flow_id: flowId, flow_version: 1, channel: 'whatsapp', origin: 'inbound', phone: user });
    expect(Object.keys(p.answers)).toEqual(['terms', 'doc', 'cedula', 'email', 'income', 'photo']);
    expect(p.answers.doc).toMatchObject({ value: 'cc', valid: true });
    expect(p.answers.email).toMatchObject({ value: 'ana@example.com', valid: true });
    expect(p.answers.photo.media).toMatchObject({ status: 'stored', mime_type: 'image/png', sha256: SandboxAdapter.placeholderSha256('image') });
    const [processRow] = await c.t.db.query(`SELECT finished_at FROM processes WHERE id = $1`, [p.process_id]);
    expect(processRow.finished_at).not.toBeNull();
    const hooks = hooksFor(p.process_id);
    expect(hooks.map((h) => h.body.type)).toEqual(['process.started', 'process.succeeded']);
    const wh = new Webhook(hookSecret);
    for (const { r } of hooks) expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    // The hook carries the whole result as the API returns it; the file was still downloading when the process ended.
    const { photo: hookedPhoto, ...hookedAnswers } = hooks[1].body.data.answers;
    const { photo, ...answers } = p.answers;
    expect(hookedAnswers).toEqual(answers);
    expect(hookedPhoto.media).toMatchObject({ id: photo.media.id, status: 'pending' });
    expect({ ...hooks[1].body.data, answers: null, history: null }).toEqual({ ...p, answers: null, history: null });
  });

  it('re-asks an invalid email with the step error text, then accepts a valid one', async () => {
    const user = '+573005550002';
    for (const step of ['Quiero validar mi identidad', { reply_id: 'consent:accept' }, { reply_id: 'pp' }] as const) await c.say(user, step);
    expect(await c.lastBot(user)).toMatchObject({ body: '¿Tu correo?' });
    await c.say(user, 'no-es-un-correo');
    const bot = await c.bot(user);
    expect(bot.slice(-2)).toEqual([
      { kind: 'text', body: 'Ese correo no es válido' },
      { kind: 'text', body: '¿Tu correo?' },
    ]);
    await c.say(user, 'ana@example.com');
    const p = await c.process(user);
    expect(p.status).toBe('pending');
    expect(p.current_step_id).toBe('income');
    expect(p.history.filter((h: { step_id: string }) => h.step_id === 'email').map((h: { valid: boolean; error: string | null }) => [h.valid, h.error])).toEqual([
      [false, 'not_an_email'],
      [true, null],
    ]);
  });

  it('fails the process after too many invalid answers', async () => {
    const user = '+573005550003';
    for (const step of ['Quiero validar mi identidad', { reply_id: 'consent:accept' }, { reply_id: 'pp' }, 'x', 'y', 'z'] as const) await c.say(user, step);
    const p = await c.process(user);
    expect(p).toMatchObject({ status: 'failed', failure_reason: 'validation_failed' });
    const hooks = hooksFor(p.process_id);
    expect(hooks.map((h) => h.body.type)).toEqual(['process.started', 'process.failed']);
    const wh = new Webhook(hookSecret);
    expect(wh.verify(hooks[1].r.body, hooks[1].r.headers as Record<string, string>)).toMatchObject({ type: 'process.failed', data: { failure_reason: 'validation_failed' } });
  });

  it('branches by button and by list', async () => {
    const user = '+573005550004';
    for (const step of ['Quiero validar mi identidad', { reply_id: 'consent:accept' }, 'Pasaporte', 'ana@example.com', { reply_id: 'high' }] as const) await c.say(user, step);
    const p = await c.process(user);
    expect(Object.keys(p.answers)).toEqual(['terms', 'doc', 'email', 'income']); // no cedula: the button branched to email
    expect(p).toMatchObject({ status: 'failed', failure_reason: 'manual_review' }); // the list branched to the review end
    expect(await c.lastBot(user)).toEqual({ kind: 'text', body: 'Un asesor te contactará.' });
  });

  it('ends as failed when consent is declined', async () => {
    const user = '+573005550005';
    await c.say(user, 'Quiero validar mi identidad');
    await c.say(user, 'No acepto');
    expect(await c.process(user)).toMatchObject({ status: 'failed', failure_reason: 'consent_declined' });
  });

  it('cancels on the exit keyword', async () => {
    const user = '+573005550006';
    await c.say(user, 'Quiero validar mi identidad');
    await c.say(user, 'SALIR');
    expect(await c.process(user)).toMatchObject({ status: 'cancelled', failure_reason: 'user_cancelled' });
    expect(await c.lastBot(user)).toEqual({ kind: 'text', body: 'Has salido del proceso.' });
  });

  it('starts a new process after the previous one finished', async () => {
    const user = '+573005550007';
    await c.say(user, 'Quiero validar mi identidad');
    await c.say(user, 'salir');
    await c.say(user, 'Quiero validar mi identidad');
    const list = await c.t.http.get('/v1/processes').query({ phone: user }).set('X-API-Key', c.apiKey).expect(200);
    expect(list.body.data.map((p: { status: string }) => p.status)).toEqual(['pending', 'cancelled']);
  });

  it('keeps two users on one line apart', async () => {
    const [a, b] = ['+573005550008', '+573005550009'];
    await c.say(a, 'Quiero validar mi identidad');
    await c.say(b, 'Quiero validar mi identidad');
    await c.say(a, { reply_id: 'consent:accept' });
    await c.say(b, 'No acepto');
    expect((await c.process(a)).status).toBe('pending');
    expect((await c.process(a)).current_step_id).toBe('doc');
    expect((await c.process(b)).status).toBe('failed');
  });

  it('expires a waiting process when its time runs out', async () => {
    const user = '+573005550010';
    await c.say(user, 'Quiero validar mi identidad');
    const p = await c.process(user);
    expect(new Date(p.expires_at).getTime()).toBe(c.t.clock.now().getTime() + 24 * 3600_000);
    c.t.clock.advance(24 * 3600_000 - 1000);
    await c.work();
    expect((await c.process(user)).status).toBe('pending');
    c.t.clock.advance(2000);
    await c.work();
    expect(await c.process(user)).toMatchObject({ status: 'expired', failure_reason: 'expired' });
    expect(hooksFor(p.process_id).at(-1)?.body).toMatchObject({ type: 'process.failed', data: { status: 'expired' } });
  });

  it('answers unknown messages with the tenant fallback text only when one is set', async () => {
    const user = '+573005550011';
    await c.say(user, 'hola?');
    expect(await c.bot(user)).toEqual([]);
    expect(await c.process(user)).toBeUndefined();
    const bad = await c.t.http.patch('/v1/settings').set('X-API-Key', c.apiKey).send({ exit_keywords: 'salir' }).expect(400);
    expect(bad.body.details[0].field).toBe('exit_keywords');
    const set = await c.t.http
      .patch('/v1/settings')
      .set('X-API-Key', c.apiKey)
      .type('form')
      .send({ fallback_text: 'Escribe "Quiero validar mi identidad"', exit_keywords: '["chao"]' })
      .expect(200);
    expect(set.body).toMatchObject({ fallback_text: 'Escribe "Quiero validar mi identidad"', exit_keywords: ['chao'], stop_keywords: expect.arrayContaining(['STOP']) });
    const user2 = '+573005550013';
    await c.say(user2, 'hola?');
    expect(await c.bot(user2)).toEqual([{ kind: 'text', body: 'Escribe "Quiero validar mi identidad"' }]);
    await c.t.http.patch('/v1/settings').set('X-API-Key', c.apiKey).send({ fallback_text: null, exit_keywords: null }).expect(200);
  });

  it('lets the client cancel a pending process, once', async () => {
    const user = '+573005550012';
    await c.say(user, 'Quiero validar mi identidad');
    const p = await c.process(user);
    const other = await c.t.newTenant('Other');
    await c.t.http.post(`/v1/processes/${p.process_id}/cancel`).set('X-API-Key', other.apiKey).expect(404);
    await c.t.http.get(`/v1/processes/${p.process_id}`).set('X-API-Key', other.apiKey).expect(404);
    const res = await c.t.http.post(`/v1/processes/${p.process_id}/cancel`).set('X-API-Key', c.apiKey).expect(200);
    expect(res.body).toMatchObject({ status: 'cancelled', failure_reason: 'client_cancelled' });
    const again = await c.t.http.post(`/v1/processes/${p.process_id}/cancel`).set('X-API-Key', c.apiKey).expect(409);
    expect(again.body.code).toBe('PROCESS_FINISHED');
    // The user's next message no longer answers it.
    await c.say(user, { reply_id: 'consent:accept' });
    expect((await c.t.http.get(`/v1/processes/${p.process_id}`).set('X-API-Key', c.apiKey).expect(200)).body.history).toEqual([]);
  });

  it("a message for an archived flow's inbound is kept, starts nothing and blocks nothing", async () => {
    const archived = await c.flow({ ...KYC, name: 'old' });
    await c.inbound(archived, 'flujo viejo');
    await c.t.http.post(`/v1/flows/${archived}/archive`).set('X-API-Key', c.apiKey).expect(200);
    const user = '+573005550014';
    await c.say(user, 'flujo viejo');
    expect(await c.process(user)).toBeUndefined();
    const [msg] = await c.t.db.query(`SELECT status FROM messages WHERE phone = $1 AND direction = 'inbound'`, [user]);
    expect(msg.status).toBe('received');
    // Nothing failed, nothing due left over (the sandbox's simulated statuses wait for their time).
    const failed = await c.t.db.query(
      `SELECT count(*)::int AS n FROM webhook_events WHERE status = 'failed' OR (status = 'pending' AND (locked_until IS NULL OR locked_until <= $1))`,
      [c.t.clock.now()],
    );
    expect(failed[0].n).toBe(0);
    await c.say(user, 'Quiero validar mi identidad'); // the next message works as usual
    expect((await c.process(user)).status).toBe('pending');
  });

  it('filters the process list and rejects bad filters', async () => {
    const failed = await c.t.http.get('/v1/processes').query({ status: 'failed', flow_id: flowId }).set('X-API-Key', c.apiKey).expect(200);
    expect(failed.body.data.length).toBeGreaterThan(0);
    expect(failed.body.data.every((p: { status: string }) => p.status === 'failed')).toBe(true);
    const future = await c.t.http.get('/v1/processes').query({ from: '2099-01-01T00:00:00Z' }).set('X-API-Key', c.apiKey).expect(200);
    expect(future.body.data).toEqual([]);
    await c.t.http.get('/v1/processes').query({ status: 'done' }).set('X-API-Key', c.apiKey).expect(400);
    await c.t.http.get('/v1/processes').query({ from: 'yesterday' }).set('X-API-Key', c.apiKey).expect(400);
    await c.t.http.get('/v1/processes').query({ from: '2024-W01' }).set('X-API-Key', c.apiKey).expect(400);
  });
});

describe('inbounds API', () => {
  let c: SandboxChat;
  let flowId: string;
  beforeAll(async () => {
    c = await sandboxChat();
    flowId = await c.flow(KYC);
  });
  afterAll(() => c.close());

  it('creates an inbound from a form body with a wa.me link, and refuses the same text on the line', async () => {
    const res = await c.t.http
      .post('/v1/whatsapp/inbounds')
      .set('Truora-API-Key', c.apiKey)
      .type('form')
      .send({ waba_phone_number: '+14155550100', flow_id: flowId, inbound_message: 'Hola, quiero abrir mi cuenta' })
      .expect(201);
    expect(res.body).toMatchObject({
      inbound_id: expect.stringMatching(/^INB/),
      waba_phone_number: '+14155550100',
      flow_id: flowId,
      inbound_message: 'Hola, quiero abrir mi cuenta',
      link: 'https://wa.me/14155550100?text=Hola%2C%20quiero%20abrir%20mi%20cuenta',
    });
    const taken = await c.t.http
      .post('/v1/whatsapp/inbounds')
      .set('Truora-API-Key', c.apiKey)
      .send({ waba_phone_number: '+14155550100', flow_id: flowId, inbound_message: '  HOLA,  quiero abrír mi cuenta ' })
      .expect(409);
    expect(taken.body.code).toBe('INBOUND_MESSAGE_TAKEN');
    await c.t.http.get(`/v1/whatsapp/inbounds/${res.body.inbound_id}`).set('Truora-API-Key', c.apiKey).expect(200);
    const list = await c.t.http.get('/v1/whatsapp/inbounds').set('Truora-API-Key', c.apiKey).expect(200);
    expect(list.body.data.map((i: { inbound_id: string }) => i.inbound_id)).toContain(res.body.inbound_id);
    const other = await c.t.newTenant('Other');
    await c.t.http.get(`/v1/whatsapp/inbounds/${res.body.inbound_id}`).set('Truora-API-Key', other.apiKey).expect(404);
    await c.t.http.delete(`/v1/whatsapp/inbounds/${res.body.inbound_id}`).set('Truora-API-Key', other.apiKey).expect(404);
    await c.t.http.delete(`/v1/whatsapp/inbounds/${res.body.inbound_id}`).set('Truora-API-Key', c.apiKey).expect(204);
    // Once deleted, the text is free again.
    await c.t.http
      .post('/v1/whatsapp/inbounds')
      .set('Truora-API-Key', c.apiKey)
      .send({ waba_phone_number: '+14155550100', flow_id: flowId, inbound_message: 'hola, quiero abrir mi cuenta' })
      .expect(201);
  });

  it.each([
    [{ flow_id: 'FLW0', inbound_message: 'x' }, 'flow_id'],
    [{ waba_phone_number: '+573009999999', inbound_message: 'x' }, 'waba_phone_number'],
    [{ inbound_message: '' }, 'inbound_message'],
    [{ inbound_message: 'x', extra: 1 }, 'extra'],
  ])('rejects %j naming %s', async (override, field) => {
    const body = { waba_phone_number: '+14155550100', flow_id: flowId, inbound_message: 'y', ...(override as object) };
    const res = await c.t.http.post('/v1/whatsapp/inbounds').set('Truora-API-Key', c.apiKey).send(body).expect(400);
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  });
});

describe('media answers', () => {
  it('rejects a media type the step does not accept and keeps asking', async () => {
    const c = await sandboxChat();
    try {
      const flowId = await c.flow({
        name: 'doc only',
        steps: [
          { id: 'pdf', type: 'media', text: 'Envía tu contrato en PDF', accept: ['document'], error_text: 'Debe ser un documento' },
          { id: 'ok', type: 'end', outcome: 'succeeded', text: 'Gracias' },
        ],
      });
      await c.inbound(flowId, 'contrato');
      const user = '+573005550100';
      await c.say(user, 'contrato');
      await c.say(user, { media_type: 'image' });
      expect((await c.bot(user)).slice(-2)).toEqual([
        { kind: 'text', body: 'Debe ser un documento' },
        { kind: 'text', body: 'Envía tu contrato en PDF' },
      ]);
      await c.say(user, { media_type: 'document' });
      const p = await c.process(user);
      expect(p.status).toBe('succeeded');
      expect(p.answers.pdf.media).toMatchObject({ status: 'stored', mime_type: 'application/pdf', sha256: SandboxAdapter.placeholderSha256('document') });
    } finally {
      await c.close();
    }
  });
});
