import { createTestApp, TestApp } from './support/test-app.js';

const LEVELS = 200_000;
/** `[[[…]]]` nested LEVELS deep: 400 KB, within the body limit. */
const deepArray = '['.repeat(LEVELS) + ']'.repeat(LEVELS);
const steps = [
  { id: 'ask', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
  { id: 'done', type: 'end', outcome: 'succeeded', text: 'Listo' },
];

describe('request bodies: nesting depth and prototype keys', () => {
  let t: TestApp;
  let key: { 'X-API-Key': string };
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    key = { 'X-API-Key': (await t.newTenant()).apiKey };
  });
  afterAll(() => t.close());

  const postJson = (path: string, raw: string) => t.http.post(path).set(key).set('content-type', 'application/json').send(raw);

  it.each([
    ['/v1/flows', 'steps', `{"name":"deep","steps":${deepArray}}`],
    ['/v1/flows', 'settings', `{"name":"deep","steps":${JSON.stringify(steps)},"settings":${deepArray}}`],
    ['/v1/hooks', 'events', `{"url":"https://api.example.com/hooks","events":${deepArray}}`],
  ])('answers %s with %s nested 200,000 levels deep 400 MALFORMED_BODY (was a 500 from a stack overflow)', async (path, _field, raw) => {
    // Refused from a scan of its text, before validation builds or walks the nested value.
    const res = await postJson(path, raw);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'MALFORMED_BODY', message: expect.stringContaining('32 levels') });
  });

  it('answers a form field that carries deeply nested JSON 400 MALFORMED_BODY naming the field', async () => {
    const res = await t.http.post('/v1/flows').set(key).set('content-type', 'application/x-www-form-urlencoded').send(`name=deep&steps=${deepArray}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'MALFORMED_BODY', details: [{ field: 'steps', messages: [expect.stringContaining('32 levels')] }] });
    const hooks = await t.http
      .post('/v1/hooks')
      .set(key)
      .type('form')
      .send({ url: 'https://api.example.com/hooks', events: `${'['.repeat(40)}${']'.repeat(40)}` });
    expect(hooks.status).toBe(400);
    expect(hooks.body.code).toBe('MALFORMED_BODY');
  });

  it('lets 32 levels (the body itself counts as one) through to validation, and refuses 33', async () => {
    const nested = (n: number) => `{"name":"n","steps":${'['.repeat(n)}${']'.repeat(n)}}`;
    const atLimit = await postJson('/v1/flows', nested(31));
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.code).toBe('VALIDATION_FAILED');
    expect((await postJson('/v1/flows', nested(32))).body.code).toBe('MALFORMED_BODY');
  });

  it.each([
    ['a top-level __proto__ in a flow', '/v1/flows', `{"name":"p","steps":${JSON.stringify(steps)},"__proto__":{"admin":true}}`, '__proto__'],
    ['a __proto__ inside a step', '/v1/flows', `{"name":"p","steps":[{"id":"done","type":"end","outcome":"succeeded","text":"x","__proto__":{"next":"x"}}]}`, 'steps[0].__proto__'],
    ['a constructor inside settings', '/v1/flows', `{"name":"p","steps":${JSON.stringify(steps)},"settings":{"constructor":{"prototype":{}}}}`, 'settings.constructor'],
    ['a __proto__ in a hook', '/v1/hooks', `{"url":"https://api.example.com/hooks","events":["process.started"],"__proto__":{"active":false}}`, '__proto__'],
    ['a prototype key in a hook', '/v1/hooks', `{"url":"https://api.example.com/hooks","events":["process.started"],"prototype":1}`, 'prototype'],
  ])('refuses %s like an unknown field: 400 VALIDATION_FAILED naming it', async (_name, path, raw, field) => {
    const res = await postJson(path, raw);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details).toEqual([{ field, messages: [expect.stringContaining('should not exist')] }]);
  });

  it('refuses __proto__ in a form field that carries JSON, and as a form field itself', async () => {
    const inSteps = await t.http
      .post('/v1/flows')
      .set(key)
      .type('form')
      .send({ name: 'p', steps: JSON.stringify([{ id: 'done', type: 'end', outcome: 'succeeded', text: 'x' }]).replace('{"id"', '{"__proto__":{"x":1},"id"') });
    expect(inSteps.status).toBe(400);
    expect(inSteps.body.details).toEqual([{ field: 'steps[0].__proto__', messages: [expect.any(String)] }]);
    const field = await t.http
      .post('/v1/hooks')
      .set(key)
      .set('content-type', 'application/x-www-form-urlencoded')
      .send('url=https%3A%2F%2Fapi.example.com%2Fh&events=process.started&__proto__=x');
    expect(field.status).toBe(400);
    expect(field.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: '__proto__' }] });
  });

  // PostgreSQL refuses a lone UTF-16 surrogate in json/jsonb: stored, such a text failed the INSERT (a 500).
  it.each([
    ['a flow name', '/v1/flows', `{"name":"caf\\ud800","steps":${JSON.stringify(steps)}}`, 'name'],
    ['a step text', '/v1/flows', `{"name":"s","steps":[{"id":"done","type":"end","outcome":"succeeded","text":"fin \\udfff"}]}`, 'steps[0].text'],
    ['a settings key', '/v1/flows', `{"name":"s","steps":${JSON.stringify(steps)},"settings":{"\\ud83d":1}}`, 'settings.\ufffd'],
    ['a hook url', '/v1/hooks', `{"url":"https://api.example.com/\\uDBFF","events":["process.started"]}`, 'url'],
  ])('refuses a lone surrogate escape in %s: 400 VALIDATION_FAILED naming the field', async (_name, path, raw, field) => {
    const res = await postJson(path, raw);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field, messages: [expect.stringContaining('lone UTF-16 surrogate')] }] });
  });

  it('refuses a lone surrogate in a form field that carries JSON; a surrogate pair (an emoji) is text like any other', async () => {
    const form = await t.http
      .post('/v1/flows')
      .set(key)
      .type('form')
      .send({ name: 'f', steps: JSON.stringify(steps).replace('Listo', 'Listo \\ud800') });
    expect(form.status).toBe(400);
    expect(form.body.details).toEqual([{ field: 'steps[1].text', messages: [expect.stringContaining('lone UTF-16 surrogate')] }]);
    const emoji = await postJson('/v1/flows', `{"name":"ok \\ud83d\\ude00","steps":${JSON.stringify(steps)}}`);
    expect(emoji.status).toBe(201);
    expect(emoji.body.name).toBe('ok \u{1F600}');
    const flows = await t.http.get('/v1/flows').set(key).expect(200);
    expect(flows.body.data.map((f: { name: string }) => f.name)).not.toContain('f');
  });

  it('lets a lone surrogate through to the webhooks (stored as it came, made well-formed when processed)', async () => {
    const res = await t.http.post('/v1/whatsapp/webhook/bsp/unknown-number').set('content-type', 'application/json').send('{"messages":[{"text":{"body":"x\\ud800"}}]}');
    expect(res.body.code).not.toBe('VALIDATION_FAILED');
    expect(res.status).toBe(404);
  });

  it('still creates flows and hooks from ordinary JSON and form bodies', async () => {
    await t.http.post('/v1/flows').set(key).send({ name: 'ok', steps }).expect(201);
    await t.http
      .post('/v1/flows')
      .set(key)
      .type('form')
      .send({ name: 'ok', steps: JSON.stringify(steps) })
      .expect(201);
    await t.http
      .post('/v1/hooks')
      .set(key)
      .send({ url: 'https://api.example.com/hooks', events: ['process.started'] })
      .expect(201);
  });
});
