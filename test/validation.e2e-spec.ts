import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, createTestApp, TestApp } from './support/test-app.js';

type Schema = { type?: string; $ref?: string; items?: Schema; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; allOf?: Schema[] };
type Operation = {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  security?: object[];
};

const spec = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const resolve = (s: Schema): Schema => (s.$ref ? spec.components.schemas[s.$ref.split('/').pop()!] : s);
const STABLE_CODE = /^[A-Z][A-Z0-9_]+$/;

describe('validation in one round', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await createTestApp({ env: { WORKERS_ENABLED: 'false' } });
    key = (await t.newTenant()).apiKey;
    await t.http.post('/v1/whatsapp/numbers').set('X-API-Key', key).send({ phone_number: '+14155550100', provider: 'sandbox' }).expect(201);
  });
  afterAll(() => t.close());

  const api = (method: 'get' | 'post' | 'put' | 'patch', path: string) => t.http[method](path).set('X-API-Key', key);

  it('lists type errors and flow content errors together', async () => {
    const res = await api('post', '/v1/flows')
      .send({ name: 42, steps: [{ id: 'a', type: 'message' }], settings: { max_attempts: 'x' } })
      .expect(400);
    const fields = res.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'steps[0].text']));
  });

  it('says only that a missing field is required, not its length rules', async () => {
    const res = await api('post', '/v1/flows')
      .send({ steps: [{ id: 'a', type: 'message', text: 'x' }] })
      .expect(400);
    const name = res.body.details.find((d: { field: string }) => d.field === 'name');
    expect(name.messages).toEqual(['name is required']);
    const admin = await t.http.post('/v1/admin/tenants').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({}).expect(400);
    expect(admin.body.details).toEqual([{ field: 'name', messages: ['name is required'] }]);
  });

  it('rejects a limit that is not a number and a cursor that is not an id of the list', async () => {
    const limit = await api('get', '/v1/whatsapp/messages?limit=abc').expect(400);
    expect(limit.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'limit' }] });
    const cursor = await api('get', '/v1/whatsapp/messages?cursor=zzz').expect(400);
    expect(cursor.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'cursor' }] });
    // Another resource's id is no cursor of this list either.
    const other = await api('get', '/v1/whatsapp/messages?cursor=FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C').expect(400);
    expect(other.body.details[0]).toMatchObject({ field: 'cursor', messages: [expect.stringContaining('MSG')] });
    await api('get', '/v1/whatsapp/messages?cursor=MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C&limit=5').expect(200);
    await api('get', '/v1/flows?cursor=FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C').expect(200);
    await t.http.get('/v1/admin/tenants?cursor=MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(400);
  });

  it('answers a body that is neither JSON nor a form with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await api('post', '/v1/flows').set('Content-Type', 'text/plain').send('name=x').expect(415);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(res.body.message).toMatch(/application\/json/);
    await api('post', '/v1/hooks').set('Content-Type', 'application/xml').send('<hook/>').expect(415);
  });

  it('says a JSON body that is not an object must be a JSON object', async () => {
    for (const body of ['null', '42', '"x"', 'true', '[]', '[{"name":"x"}]']) {
      const res = await api('post', '/v1/flows').set('Content-Type', 'application/json').send(body);
      expect([res.status, res.body.code, res.body.message]).toEqual([400, 'MALFORMED_BODY', 'The body must be a JSON object']);
    }
    const broken = await api('post', '/v1/flows').set('Content-Type', 'application/json').send('{"name":').expect(400);
    expect(broken.body.message).toBe('Request body is not valid JSON');
  });

  // Every operation of the published API with a body or query parameters, fed wrong types, missing required fields
  // and unknown fields: a 4xx with a stable code naming the field, never a 5xx.
  const operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.security?.length && (op.requestBody || op.parameters?.some((p) => p.in === 'query')))
      .map(([method, op]) => ({ method: method as 'get' | 'post' | 'put' | 'patch', path: path.replace(/\{[^}]+\}/g, 'XXX01JD3V6Q4T1Z0K6M3P9X2Y5B7C'), op })),
  );

  const send = (o: (typeof operations)[number], body: unknown, query: Record<string, unknown> = {}) => {
    const auth = o.op.security!.some((s) => 'admin' in s) ? { Authorization: `Bearer ${ADMIN_TOKEN}` } : { 'X-API-Key': key };
    const req = t.http[o.method](o.path)
      .set(auth)
      .query(query as Record<string, string>);
    return o.method === 'get' ? req : req.send(body as object);
  };
  const wrongFor = (s: Schema): fc.Arbitrary<unknown> => {
    const type = resolve(s).type ?? (resolve(s).properties ? 'object' : undefined);
    if (type === 'string') return fc.oneof(fc.integer(), fc.boolean(), fc.constant({ a: 1 }), fc.constant([1]));
    if (type === 'integer' || type === 'number') return fc.oneof(fc.constantFrom('abc', 'x1', '1.5e', ''), fc.boolean(), fc.constant({}));
    if (type === 'boolean') return fc.oneof(fc.constantFrom('maybe', 'yes please'), fc.integer({ min: 2 }), fc.constant({}));
    if (type === 'array') return fc.oneof(fc.integer(), fc.constant({ a: 1 }), fc.boolean());
    return fc.oneof(fc.integer(), fc.constant('not an object'), fc.boolean());
  };
  const named = (details: Array<{ field: string }> | undefined, field: string) =>
    (details ?? []).some((d) => d.field === field || d.field.startsWith(`${field}.`) || d.field.startsWith(`${field}[`));

  it.each(operations.map((o) => [`${o.method.toUpperCase()} ${o.path}`, o] as const))('%s: bad input is a named 4xx, never a 5xx', async (_, o) => {
    const json = o.op.requestBody?.content['application/json'];
    const body = json ? resolve(json.schema) : null;
    const props = Object.entries(body?.properties ?? {});
    const query = (o.op.parameters ?? []).filter((p) => p.in === 'query');
    const check = (res: { status: number; body: { code?: string; details?: Array<{ field: string }> } }, field?: string) => {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.code).toMatch(STABLE_CODE);
      if (field && res.status === 400 && res.body.code === 'VALIDATION_FAILED') expect(named(res.body.details, field)).toBe(true);
    };
    if (body) {
      // Unknown field.
      check(await send(o, { zz_unknown_field: 'x' }), 'zz_unknown_field');
      // Every required field missing, each named.
      if (body.required?.length) {
        const res = await send(o, {});
        check(res);
        for (const r of body.required) expect(named(res.body.details, r)).toBe(true);
      }
      // A wrong type in any one field names that field.
      if (props.length) {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...props).chain(([name, s]) => wrongFor(s).map((v) => [name, v] as const)),
            async ([name, value]) => {
              check(await send(o, { [name]: value }), name);
            },
          ),
          { numRuns: 12 },
        );
      }
    }
    if (o.op.requestBody && !json) {
      // A route that takes no JSON (an upload) refuses it by its content type.
      const res = await send(o, { zz_unknown_field: 'x' });
      check(res);
      expect(res.status).toBe(415);
    }
    if (query.length) {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...query), fc.constantFrom('abc', 'zzz', '-1', '999999', 'x'.repeat(300)), async (p, value) => {
          const res = await send(o, {}, { [p.name]: value });
          expect(res.status).toBeLessThan(500);
          expect(res.body.code ?? 'OK').toMatch(STABLE_CODE);
        }),
        { numRuns: 10 },
      );
      for (const p of query.filter((q) => q.name === 'limit' || q.name === 'cursor')) check(await send(o, {}, { [p.name]: 'abc' }), p.name);
      check(await send(o, {}, { zz_unknown: '1' }), 'zz_unknown');
    }
  });
});
