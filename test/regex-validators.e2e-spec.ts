import { clearCaches } from '../src/common/cache/lookup-cache.js';
import { FlowsService } from '../src/modules/flows/flows.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { sandboxChat, SANDBOX_LINE, type SandboxChat } from './support/sandbox-chat.js';
import { ADMIN_TOKEN } from './support/test-app.js';

const question = (validator: object, extra: object = {}) => ({
  name: 'Código',
  steps: [
    { id: 'code', type: 'question', text: 'Tu código', validator, error_text: 'Código no válido', ...extra },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
});

describe('regex validators run on a linear-time engine', () => {
  let chat: SandboxChat;
  beforeAll(async () => {
    chat = await sandboxChat();
  });
  afterAll(() => chat.close());

  const create = (body: object) => chat.t.http.post('/v1/flows').set('X-API-Key', chat.apiKey).send(body);

  it.each([
    ['(a+)+b', 'nested repetition'],
    ['(\\w+\\s?)*$', 'nested repetition'],
    ['(a)\\1', 'invalid escape sequence'],
    ['a(?=b)', 'unsupported Perl syntax'],
    ['(?<!a)b', 'invalid named capture'],
    ['[a-z]{1,1000}[a-z]{1,1000}[a-z]{1,1000}', 'too large'],
  ])('refuses %s when a flow is created or updated, naming the field and the reason', async (pattern, reason) => {
    const res = await create(question({ type: 'regex', pattern })).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([{ field: 'steps[0].validator.pattern', messages: [expect.stringContaining(reason)] }]);
    const ok = (await create(question({ type: 'regex', pattern: '\\d+' })).expect(201)).body;
    const put = await chat.t.http
      .put(`/v1/flows/${ok.id}`)
      .set('X-API-Key', chat.apiKey)
      .send(question({ type: 'regex', pattern }))
      .expect(400);
    expect(put.body.details[0].field).toBe('steps[0].validator.pattern');
    const patch = await chat.t.http
      .patch(`/v1/flows/${ok.id}`)
      .set('X-API-Key', chat.apiKey)
      .send({ steps: question({ type: 'regex', pattern }).steps })
      .expect(400);
    expect(patch.body.details[0].field).toBe('steps[0].validator.pattern');
  });

  it('validates answers with RE2 patterns and the i, m, s, u flags as before', async () => {
    const cases: Array<[object, string, string]> = [
      [{ type: 'regex', pattern: '[A-Z]{2}-\\d{3}', flags: 'i' }, 'xx-1', ' ab-123 '],
      [{ type: 'regex', pattern: 'línea uno.línea dos', flags: 's' }, 'línea uno línea tres', 'línea uno\nlínea dos'],
      [{ type: 'regex', pattern: 'uno$\\n^dos', flags: 'm' }, 'uno dos', 'uno\ndos'],
      [{ type: 'regex', pattern: '\\p{Lu}\\p{Ll}+', flags: 'u' }, 'ñandú', 'Ñandú'],
    ];
    for (const [i, [validator, bad, good]] of cases.entries()) {
      const from = `+57300111${String(i).padStart(4, '0')}`;
      const flowId = await chat.flow(question(validator));
      await chat.inbound(flowId, `codigo ${i}`);
      await chat.say(from, `codigo ${i}`);
      await chat.say(from, bad);
      expect(await chat.lastBot(from)).toMatchObject({ body: 'Tu código' });
      await chat.say(from, good);
      const process = await chat.process(from);
      expect(process.status).toBe('succeeded');
      expect(process.answers.code).toMatchObject({ value: good, normalized: good.trim(), valid: true });
    }
  });

  it('fails closed on a stored pattern RE2 cannot run, and lists it', async () => {
    const flowId = await chat.flow(question({ type: 'regex', pattern: '\\d+' }, { max_attempts: 2 }));
    // A version saved before patterns were checked (versions are immutable, so it is a new one).
    const [{ definition }] = await chat.t.db.query(`SELECT definition FROM flow_versions WHERE flow_id = $1`, [flowId]);
    definition.steps[0].validator = { type: 'regex', pattern: '(\\d)\\1' };
    await chat.t.db.query(`INSERT INTO flow_versions (flow_id, version, definition) VALUES ($1, 2, $2)`, [flowId, definition]);
    await chat.t.db.query(`UPDATE flows SET latest_version = 2 WHERE id = $1`, [flowId]);
    expect(await chat.t.app.get(FlowsService).warnUnsupportedPatterns()).toContainEqual({ flowId, version: 2, stepId: 'code', reason: 'invalid escape sequence: `\\1`' });

    clearCaches(); // the latest version of a flow is cached
    await chat.inbound(flowId, 'pareja');
    const from = '+573001119999';
    await chat.say(from, 'pareja');
    await chat.say(from, '11');
    await chat.say(from, '22');
    const process = await chat.process(from);
    expect(process).toMatchObject({ status: 'failed', failure_reason: 'validation_failed' });
    const errors = await chat.t.db.query(`SELECT error FROM process_answers WHERE process_id = $1 ORDER BY id`, [process.process_id ?? process.id]);
    expect(errors.map((r: { error: string }) => r.error)).toEqual(['unsupported_pattern', 'unsupported_pattern']);
  });

  it('applies a batch without an event over its budget, which is retried alone later; /metrics counts it', async () => {
    // No simulated statuses: the test counts the inbox's events.
    const over = await sandboxChat({ env: { WEBHOOK_EVENT_BUDGET_MS: '0', SANDBOX_STATUS_DELAY_MS: 'off' } });
    try {
      const flowId = await over.flow(question({ type: 'regex', pattern: '\\d+' }));
      await over.inbound(flowId, 'hola');
      const users = ['+573001110001', '+573001110002', '+573001110003'];
      for (const from of users) {
        await over.t.http.post('/v1/sandbox/messages').set('X-API-Key', over.apiKey).send({ waba_phone_number: SANDBOX_LINE, from, text: 'hola' }).expect(202);
      }
      const processor = over.t.app.get(WebhookProcessorService);
      expect(await processor.processPending()).toBe(3);
      // With a budget of 0 ms every event of a batch is over it: the first is put off, then the next, and the last
      // is applied alone (where no budget applies).
      const rows = await over.t.db.query(`SELECT status, error, attempts FROM webhook_events ORDER BY id`);
      expect(rows.map((r: { status: string }) => r.status)).toEqual(['pending', 'pending', 'processed']);
      expect(rows[0].error).toMatch(/over its budget in a batch: retried on its own/);
      // Due again together, the first is put off once more, and then applied alone.
      for (let round = 0; round < 2; round++) {
        over.t.clock.advance(60_000);
        await over.work();
      }
      const after = await over.t.db.query(`SELECT status FROM webhook_events ORDER BY id`);
      expect(after.map((r: { status: string }) => r.status)).toEqual(['processed', 'processed', 'processed']);
      for (const from of users) expect(await over.lastBot(from)).toMatchObject({ body: 'Tu código' });

      const metrics = await over.t.http.get('/metrics').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
      expect(metrics.text).toMatch(/^testigo_webhook_events_over_budget_total 3$/m);
      expect(metrics.text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      await over.t.http.get('/metrics').expect(401);
    } finally {
      await over.close();
    }
  });
});

describe('regex validators in the built service', () => {
  let svc: BuiltService;
  beforeAll(async () => {
    svc = await startBuiltService();
  });
  afterAll(() => svc.stop());

  it('refuses (a+)+b, and an RE2 pattern validates answers through the sandbox', async () => {
    const { apiKey } = await svc.newTenant();
    const auth = { 'Truora-API-Key': apiKey };
    const refused = await svc.request('POST', '/v1/flows', { body: question({ type: 'regex', pattern: '(a+)+b' }), headers: auth });
    expect(refused.status).toBe(400);
    expect(refused.body.details[0].field).toBe('steps[0].validator.pattern');

    expect((await svc.request('POST', '/v1/whatsapp/numbers', { body: { phone_number: SANDBOX_LINE, provider: 'sandbox' }, headers: auth })).status).toBe(201);
    const flow = await svc.request('POST', '/v1/flows', { body: question({ type: 'regex', pattern: '[A-Z]{3}\\d{3}', flags: 'i' }), headers: auth });
    expect(flow.status).toBe(201);
    expect(
      (await svc.request('POST', '/v1/whatsapp/inbounds', { body: { waba_phone_number: SANDBOX_LINE, flow_id: flow.body.id, inbound_message: 'codigo' }, headers: auth })).status,
    ).toBe(201);
    const from = '+573001234567';
    const say = async (text: string) =>
      expect((await svc.request('POST', '/v1/sandbox/messages', { body: { waba_phone_number: SANDBOX_LINE, from, text }, headers: auth })).status).toBe(202);
    const processOf = async () => (await svc.request('GET', `/v1/processes?phone=${encodeURIComponent(from)}`, { headers: auth })).body.data[0];
    const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
      for (let i = 0; i < 100; i++) {
        const v = await read();
        if (ok(v)) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('timed out waiting for the service');
    };
    await say('codigo');
    await until(processOf, (p) => p?.status === 'pending');
    await say('a'.repeat(4096));
    await say('abc123');
    const done = await until(processOf, (p) => p?.status === 'succeeded');
    expect(done.answers.code).toMatchObject({ value: 'abc123', valid: true });
  });
});
