import { FlowsService } from '../src/modules/flows/flows.service.js';
import { createTestApp, TestApp } from './support/test-app.js';

const steps = [
  { id: 'welcome', type: 'message', text: 'Hola' },
  { id: 'terms', type: 'consent', text: '¿Aceptas?' },
  {
    id: 'pick',
    type: 'choice',
    text: '¿Documento?',
    style: 'buttons',
    options: [
      { id: 'cc', title: 'Cédula' },
      { id: 'pp', title: 'Pasaporte', next: 'email' },
    ],
  },
  { id: 'cedula', type: 'question', text: 'Número', validator: { type: 'national_id', country: 'CO' } },
  { id: 'email', type: 'question', text: 'Correo', validator: { type: 'email' } },
  { id: 'photo', type: 'media', text: 'Foto', accept: ['image'] },
  { id: 'done', type: 'end', outcome: 'succeeded', text: 'Listo' },
];
const flow = { name: 'KYC', steps };
const defaults = {
  expiration_minutes: 1440,
  language: 'es',
  enable_follow_up: false,
  follow_up_delay: 120,
  follow_up_message: 'Tienes un proceso activo en curso',
  start_business_hours: '13:00',
  end_business_hours: '00:00',
};

describe('flows', () => {
  let t: TestApp;
  let key: { 'X-API-Key': string };
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp();
    const tenant = await t.newTenant();
    key = { 'X-API-Key': tenant.apiKey };
    tenantId = tenant.tenantId;
  });
  afterAll(() => t.close());

  const create = (body: object) => t.http.post('/v1/flows').set(key).send(body);

  it('requires an API key', async () => {
    await t.http.get('/v1/flows').expect(401);
  });

  it('creates a flow from JSON with defaults applied, and reads it back', async () => {
    const res = await create(flow).expect(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^FLW[0-9A-Z]{26}$/),
      name: 'KYC',
      status: 'active',
      version: 1,
      latest_version: 1,
      steps,
      settings: defaults,
      archived_at: null,
    });
    const got = await t.http.get(`/v1/flows/${res.body.id}`).set(key).expect(200);
    expect(got.body).toEqual(res.body);
    const [row] = await t.db.query('SELECT version, definition FROM flow_versions WHERE flow_id = $1', [res.body.id]);
    expect(row.version).toBe(1);
    expect(row.definition.steps).toEqual(steps);
  });

  it('creates a flow from a form body, steps and settings as JSON strings', async () => {
    const settings = { enable_follow_up: 'true', follow_up_delay: '45', start_business_hours: '2021-01-01T14:30:00.000Z', end_business_hours: '23:00' };
    const res = await t.http
      .post('/v1/flows')
      .set(key)
      .type('form')
      .send({ name: 'Form flow', steps: JSON.stringify(steps), settings: JSON.stringify(settings) })
      .expect(201);
    expect(res.body.steps).toEqual(steps);
    expect(res.body.settings).toEqual({ ...defaults, enable_follow_up: true, follow_up_delay: 45, start_business_hours: '14:30', end_business_hours: '23:00' });
  });

  it('updates create new versions; older versions stay readable and unchanged', async () => {
    const v1 = (await create({ ...flow, settings: { follow_up_delay: 60 } }).expect(201)).body;
    const newSteps = [
      { id: 'hi', type: 'message', text: 'Hola de nuevo' },
      { id: 'bye', type: 'end', outcome: 'failed', text: 'Adiós', failure_reason: 'closed' },
    ];
    const v2 = (await t.http.put(`/v1/flows/${v1.id}`).set(key).send({ name: 'KYC v2', steps: newSteps }).expect(200)).body;
    expect(v2).toMatchObject({ id: v1.id, name: 'KYC v2', version: 2, latest_version: 2, steps: newSteps, settings: defaults });
    // PATCH keeps what it does not name and merges settings.
    const v3 = (
      await t.http
        .patch(`/v1/flows/${v1.id}`)
        .set(key)
        .send({ settings: { enable_follow_up: true } })
        .expect(200)
    ).body;
    expect(v3).toMatchObject({ version: 3, name: 'KYC v2', steps: newSteps, settings: { ...defaults, enable_follow_up: true } });
    const v4 = (
      await t.http
        .patch(`/v1/flows/${v1.id}`)
        .set(key)
        .type('form')
        .send({ settings: JSON.stringify({ follow_up_delay: 90 }) })
        .expect(200)
    ).body;
    expect(v4.settings).toMatchObject({ enable_follow_up: true, follow_up_delay: 90 });

    const old = (await t.http.get(`/v1/flows/${v1.id}?version=1`).set(key).expect(200)).body;
    expect(old).toMatchObject({ version: 1, latest_version: 4, name: 'KYC', steps, settings: { ...defaults, follow_up_delay: 60 } });
    expect((await t.http.get(`/v1/flows/${v1.id}`).set(key).expect(200)).body.version).toBe(4);
    const missing = await t.http.get(`/v1/flows/${v1.id}?version=9`).set(key).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    await t.http.get(`/v1/flows/${v1.id}?version=0`).set(key).expect(400);

    // Stored versions are immutable, even to a direct UPDATE.
    await expect(t.db.query(`UPDATE flow_versions SET definition = '{}' WHERE flow_id = $1 AND version = 1`, [v1.id])).rejects.toThrow(/immutable/);
    const service = t.app.get(FlowsService);
    expect((await service.getVersion(tenantId, v1.id, 1)).definition.steps).toEqual(steps);
    expect((await service.getVersion(tenantId, v1.id)).version).toBe(4);
  });

  it('an invalid update creates no version', async () => {
    const f = (await create(flow).expect(201)).body;
    await t.http
      .patch(`/v1/flows/${f.id}`)
      .set(key)
      .send({ steps: [{ id: 'a', type: 'message', text: 'x' }] })
      .expect(400);
    await t.http.put(`/v1/flows/${f.id}`).set(key).send({ name: 'no steps' }).expect(400);
    const [{ count }] = await t.db.query('SELECT count(*)::int AS count FROM flow_versions WHERE flow_id = $1', [f.id]);
    expect(count).toBe(1);
  });

  it('concurrent updates get distinct version numbers', async () => {
    const f = (await create(flow).expect(201)).body;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, k) =>
        t.http
          .patch(`/v1/flows/${f.id}`)
          .set(key)
          .send({ name: `n${k}` }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body.version).sort()).toEqual([2, 3, 4, 5, 6]);
  });

  it('lists flows newest first, paginated and filtered by status', async () => {
    const { apiKey } = await t.newTenant('Lister');
    const k = { 'X-API-Key': apiKey };
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c'])
      ids.push(
        (
          await t.http
            .post('/v1/flows')
            .set(k)
            .send({ ...flow, name })
            .expect(201)
        ).body.id,
      );
    await t.http.post(`/v1/flows/${ids[1]}/archive`).set(k).expect(200);
    const page = await t.http.get('/v1/flows?limit=2').set(k).expect(200);
    expect(page.body.data.map((f: { id: string }) => f.id)).toEqual([ids[2], ids[1]]);
    expect(page.body.data[0]).not.toHaveProperty('steps');
    const next = await t.http.get(`/v1/flows?limit=2&cursor=${page.body.next_cursor}`).set(k).expect(200);
    expect(next.body).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
    const active = await t.http.get('/v1/flows?status=active').set(k).expect(200);
    expect(active.body.data.map((f: { id: string }) => f.id)).toEqual([ids[2], ids[0]]);
    const archived = await t.http.get('/v1/flows?status=archived').set(k).expect(200);
    expect(archived.body.data.map((f: { id: string }) => f.id)).toEqual([ids[1]]);
    const bad = await t.http.get('/v1/flows?status=deleted').set(k).expect(400);
    expect(bad.body.details[0].field).toBe('status');
  });

  it('archives (POST archive or DELETE): readable, not startable, not changeable', async () => {
    const service = t.app.get(FlowsService);
    const a = (await create(flow).expect(201)).body;
    expect((await service.assertStartable(tenantId, a.id)).version).toBe(1);
    const archived = await t.http.post(`/v1/flows/${a.id}/archive`).set(key).expect(200);
    expect(archived.body).toMatchObject({ status: 'archived', archived_at: expect.any(String), steps });
    await t.http.post(`/v1/flows/${a.id}/archive`).set(key).expect(200);
    await expect(service.assertStartable(tenantId, a.id)).rejects.toMatchObject({ status: 409, code: 'FLOW_ARCHIVED' });
    const change = await t.http.patch(`/v1/flows/${a.id}`).set(key).send({ name: 'x' }).expect(409);
    expect(change.body.code).toBe('FLOW_ARCHIVED');
    expect((await service.getVersion(tenantId, a.id)).status).toBe('archived');

    const b = (await create(flow).expect(201)).body;
    await t.http.delete(`/v1/flows/${b.id}`).set(key).expect(204);
    expect((await t.http.get(`/v1/flows/${b.id}`).set(key).expect(200)).body.status).toBe('archived');
  });

  it("isolates tenants: another tenant's flow is a 404 everywhere", async () => {
    const f = (await create(flow).expect(201)).body;
    const other = { 'X-API-Key': (await t.newTenant('Other')).apiKey };
    for (const req of [
      t.http.get(`/v1/flows/${f.id}`).set(other),
      t.http.get(`/v1/flows/${f.id}?version=1`).set(other),
      t.http.put(`/v1/flows/${f.id}`).set(other).send(flow),
      t.http.patch(`/v1/flows/${f.id}`).set(other).send({ name: 'stolen' }),
      t.http.post(`/v1/flows/${f.id}/archive`).set(other),
      t.http.delete(`/v1/flows/${f.id}`).set(other),
    ]) {
      const res = await req;
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    expect((await t.http.get('/v1/flows').set(other).expect(200)).body.data).toEqual([]);
    const service = t.app.get(FlowsService);
    const { tenantId: otherTenant } = await t.newTenant('Other 2');
    await expect(service.getVersion(otherTenant, f.id)).rejects.toMatchObject({ status: 404 });
    await expect(service.assertStartable(otherTenant, f.id)).rejects.toMatchObject({ status: 404 });
    const still = await t.http.get(`/v1/flows/${f.id}`).set(key).expect(200);
    expect(still.body).toMatchObject({ status: 'active', version: 1, name: 'KYC' });
  });

  describe('validation: 400 naming the step or field', () => {
    const withStep = (i: number, change: object) => ({ ...flow, steps: steps.map((s, j) => (j === i ? { ...s, ...change } : s)) });
    const fourButtons = [1, 2, 3, 4].map((k) => ({ id: `o${k}`, title: `Opción ${k}` }));

    it.each([
      ['an unknown next id', withStep(3, { next: 'nowhere' }), 'steps[3].next', "steps[3] (id 'cedula'): next 'nowhere' is not the id of a step"],
      ['an unknown option next', withStep(2, { options: [{ id: 'cc', title: 'Cédula', next: 'ghost' }] }), 'steps[2].options[0].next', "'ghost' is not the id of a step"],
      ['a loop without exit', withStep(4, { next: 'cedula' }), 'steps[3]', 'loops without exit (cedula → email → cedula)'],
      ['four buttons', withStep(2, { options: fourButtons }), 'steps[2].options', "steps[2] (id 'pick'): options: WhatsApp allows at most 3 buttons, got 4"],
      ['a 21-character button title', withStep(2, { options: [{ id: 'cc', title: 'x'.repeat(21) }] }), 'steps[2].options[0].title', 'at most 20 characters, got 21'],
      [
        'an 11-row list',
        withStep(2, { style: 'list', options: Array.from({ length: 11 }, (_, k) => ({ id: `r${k}`, title: `Fila ${k}` })) }),
        'steps[2].options',
        'at most 10 list rows',
      ],
      [
        'a bad regex',
        withStep(4, { validator: { type: 'regex', pattern: '([0-9]+' } }),
        'steps[4].validator.pattern',
        "steps[4] (id 'email'): validator.pattern is not a valid regular expression",
      ],
      ['an unknown validator', withStep(4, { validator: { type: 'phone' } }), 'steps[4].validator.type', 'validator.type must be one of'],
      ['an unknown step type', withStep(5, { type: 'selfie' }), 'steps[5].type', 'type must be one of'],
      ['a duplicate step id', withStep(4, { id: 'cedula' }), 'steps[4].id', "id 'cedula' is already used by steps[3]"],
      ['empty text', withStep(0, { text: '  ' }), 'steps[0].text', 'text must be a non-empty string'],
      ['running off the end', { ...flow, steps: steps.slice(0, 6) }, 'steps[5]', 'the flow runs off its end'],
      [
        'more than 100 steps',
        { ...flow, steps: [...Array.from({ length: 100 }, (_, k) => ({ id: `m${k}`, type: 'message', text: 'x' })), steps[6]] },
        'steps',
        'at most 100 steps',
      ],
      ['no steps', { ...flow, steps: [] }, 'steps', 'steps must be a non-empty array'],
      ['steps not an array', { ...flow, steps: 'many' }, 'steps', 'steps must be an array'],
      ['follow_up_delay 29', { ...flow, settings: { follow_up_delay: 29 } }, 'settings.follow_up_delay', 'follow_up_delay must be from 30 to 1380 minutes'],
      ['follow_up_delay 1381', { ...flow, settings: { follow_up_delay: 1381 } }, 'settings.follow_up_delay', 'follow_up_delay must be from 30 to 1380 minutes'],
      ['a fractional follow_up_delay', { ...flow, settings: { follow_up_delay: 45.5 } }, 'settings.follow_up_delay', 'whole number of minutes'],
      ['a bad start_business_hours', { ...flow, settings: { start_business_hours: '25:00' } }, 'settings.start_business_hours', 'start_business_hours must be a UTC time of day'],
      ['a bad end_business_hours', { ...flow, settings: { end_business_hours: 'tomorrow' } }, 'settings.end_business_hours', 'end_business_hours must be a UTC time of day'],
      ['expiration_minutes 0', { ...flow, settings: { expiration_minutes: 0 } }, 'settings.expiration_minutes', 'expiration_minutes'],
      ['enable_follow_up not a boolean', { ...flow, settings: { enable_follow_up: 'yes' } }, 'settings.enable_follow_up', 'boolean'],
      ['an unknown settings field', { ...flow, settings: { follow_up_delay: 60, colour: 'red' } }, 'settings.colour', 'should not exist'],
      ['an unknown top-level field', { ...flow, owner: 'me' }, 'owner', 'should not exist'],
      ['a missing name', { steps }, 'name', 'name'],
    ])('rejects %s', async (_label, body, field, message) => {
      const res = await create(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      const detail = res.body.details.find((d: { field: string }) => d.field === field);
      expect(detail).toBeDefined();
      expect(detail.messages.join('\n')).toContain(message);
    });

    it('accepts the limits themselves: follow_up_delay 30 and 1380, 3 buttons, 20-character titles', async () => {
      await create({ ...flow, settings: { follow_up_delay: 30 } }).expect(201);
      const res = await create({
        ...withStep(2, {
          options: [
            { id: 'a', title: 'x'.repeat(20) },
            { id: 'b', title: 'y'.repeat(20) },
            { id: 'c', title: 'z' },
          ],
        }),
        settings: { follow_up_delay: 1380 },
      }).expect(201);
      expect(res.body.settings.follow_up_delay).toBe(1380);
    });

    it('rejects bad settings in a form body too, naming the field', async () => {
      const res = await t.http
        .post('/v1/flows')
        .set(key)
        .type('form')
        .send({ name: 'F', steps: JSON.stringify(steps), settings: JSON.stringify({ follow_up_delay: 29 }) })
        .expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(['settings.follow_up_delay']);
      const notJson = await t.http.post('/v1/flows').set(key).type('form').send({ name: 'F', steps: '[{', settings: '{}' }).expect(400);
      expect(notJson.body.details.map((d: { field: string }) => d.field)).toContain('steps');
    });

    it('creates nothing when invalid', async () => {
      const { apiKey } = await t.newTenant('Empty');
      await t.http
        .post('/v1/flows')
        .set('X-API-Key', apiKey)
        .send(withStep(3, { next: 'nowhere' }))
        .expect(400);
      expect((await t.http.get('/v1/flows').set('X-API-Key', apiKey).expect(200)).body.data).toEqual([]);
    });
  });
});
