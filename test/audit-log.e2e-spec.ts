import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';
import { ADMIN_TOKEN } from './support/test-app.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

interface Entry {
  id: string;
  tenant_id: string | null;
  actor: string;
  resource_type: string;
  resource_id: string | null;
  action: string;
  changes: Record<string, unknown>;
  request_id: string;
  client_ip: string | null;
  method: string;
  path: string;
  occurred_at: string;
}

const steps = (text: string) => [
  { id: 'hi', type: 'message', text },
  { id: 'done', type: 'end', outcome: 'succeeded', text: 'Listo' },
];

describe('Configuration audit log (/v1/audit-log, /v1/admin/audit-log)', () => {
  let s: CloudSetup;
  let writer: { id: string; key: string };
  let auditor: { id: string; key: string };
  /** Every secret this suite sends or is shown: none may reach the audit log. */
  const secrets: string[] = [CLOUD.accessToken, CLOUD.appSecret, CLOUD.verifyToken];
  let seq = 0;
  const rid = (what: string) => `aud-${what}-${++seq}`;

  const newKey = async (tenantId: string, scopes: string[]) => {
    const { body } = await s.t.http.post(`/v1/admin/tenants/${tenantId}/api-keys`).set(admin).send({ name: 'k', scopes }).expect(201);
    secrets.push(body.key);
    return { id: body.id as string, key: body.key as string };
  };
  /** A change by the writer key with its own request id. */
  const change = (method: 'post' | 'put' | 'patch' | 'delete', path: string, requestId: string, body?: object, key = writer.key) => {
    const req = s.t.http[method](path).set('X-API-Key', key).set('X-Request-Id', requestId);
    return body ? req.send(body) : req;
  };
  const log = async (query: Record<string, string | number> = {}, key = auditor.key): Promise<Entry[]> =>
    (await s.t.http.get('/v1/audit-log').set('X-API-Key', key).query(query).expect(200)).body.data;
  const byRequest = async (requestId: string): Promise<Entry[]> => (await log({ limit: 100 })).filter((e) => e.request_id === requestId);
  const rowsWith = async (requestId: string) => Number((await s.t.db.query(`SELECT count(*) AS n FROM audit_log WHERE request_id = $1`, [requestId]))[0].n);

  beforeAll(async () => {
    s = await cloudSetup();
    secrets.push(s.apiKey);
    writer = await newKey(s.tenantId, ['read', 'write']);
    auditor = await newKey(s.tenantId, ['read', 'admin-of-tenant']);
  });
  afterAll(() => s.close());

  /** Makes the change and checks its one audit row. */
  async function expectAudited(
    requestId: string,
    res: { status: number; body: Record<string, unknown> },
    expected: { resource_type: string; resource_id: string; action: string; method: string },
  ): Promise<Entry> {
    expect(res.status).toBeLessThan(300);
    const rows = await byRequest(requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ...expected,
      tenant_id: s.tenantId,
      actor: writer.id,
      request_id: requestId,
      client_ip: expect.stringMatching(/127\.0\.0\.1/),
      occurred_at: s.t.clock.now().toISOString(),
    });
    return rows[0];
  }

  it('records every create, update and delete of lines, flows, inbounds, outbounds, hooks and settings with actor, resource, action and request id', async () => {
    // Lines: a BSP line (its webhook token is shown once), a change of its key, a token rotation, removal; and new
    // secrets for the Cloud API line.
    let id = rid('line');
    const bsp = await change('post', '/v1/whatsapp/numbers', id, {
      phone_number: '+573001239001',
      provider: 'bsp',
      api_key: 'bsp-api-key-audit-5521',
      base_url: 'http://127.0.0.1:9',
    });
    secrets.push('bsp-api-key-audit-5521', bsp.body.webhook_token);
    const lineId = bsp.body.id as string;
    const created = await expectAudited(id, bsp, { resource_type: 'whatsapp_line', resource_id: lineId, action: 'create', method: 'POST' });
    expect(created.changes).toMatchObject({ phone_number: '+573001239001', provider: 'bsp', api_key: '[REDACTED]' });
    expect(created.path).toBe('/v1/whatsapp/numbers');

    s.t.clock.advance(1000);
    id = rid('line');
    const patched = await expectAudited(id, await change('patch', `/v1/whatsapp/numbers/${lineId}`, id, { throughput_mps: 40, api_key: 'bsp-api-key-audit-7730' }), {
      resource_type: 'whatsapp_line',
      resource_id: lineId,
      action: 'update',
      method: 'PATCH',
    });
    secrets.push('bsp-api-key-audit-7730');
    expect(patched.changes).toEqual({ throughput_mps: 40, api_key: '[REDACTED]' });

    id = rid('line');
    const rotated = await change('post', `/v1/whatsapp/numbers/${lineId}/webhook-token`, id);
    secrets.push(rotated.body.webhook_token);
    await expectAudited(id, rotated, { resource_type: 'whatsapp_line', resource_id: lineId, action: 'rotate_webhook_token', method: 'POST' });

    id = rid('line');
    await expectAudited(id, await change('delete', `/v1/whatsapp/numbers/${lineId}`, id), {
      resource_type: 'whatsapp_line',
      resource_id: lineId,
      action: 'delete',
      method: 'DELETE',
    });

    id = rid('line');
    secrets.push('new-app-secret-audit-3391', 'new-verify-token-audit-8812');
    const cloud = await expectAudited(
      id,
      await change('patch', `/v1/whatsapp/numbers/${s.lineId}`, id, { app_secret: 'new-app-secret-audit-3391', verify_token: 'new-verify-token-audit-8812' }),
      {
        resource_type: 'whatsapp_line',
        resource_id: s.lineId,
        action: 'update',
        method: 'PATCH',
      },
    );
    expect(cloud.changes).toEqual({ app_secret: '[REDACTED]', verify_token: '[REDACTED]' });

    // Flows: create, PUT, PATCH, archive; DELETE (which archives) on another.
    id = rid('flow');
    const flow = await change('post', '/v1/flows', id, { name: 'KYC', steps: steps('Hola') });
    const flowId = flow.body.id as string;
    expect((await expectAudited(id, flow, { resource_type: 'flow', resource_id: flowId, action: 'create', method: 'POST' })).changes).toMatchObject({
      name: 'KYC',
      steps: steps('Hola'),
    });
    id = rid('flow');
    await expectAudited(id, await change('put', `/v1/flows/${flowId}`, id, { name: 'KYC 2', steps: steps('Hola 2') }), {
      resource_type: 'flow',
      resource_id: flowId,
      action: 'replace',
      method: 'PUT',
    });
    id = rid('flow');
    const flowPatch = await expectAudited(id, await change('patch', `/v1/flows/${flowId}`, id, { name: 'KYC 3' }), {
      resource_type: 'flow',
      resource_id: flowId,
      action: 'update',
      method: 'PATCH',
    });
    expect(flowPatch.changes).toEqual({ name: 'KYC 3' });

    // Inbounds (on the Cloud API line, with that flow): create and delete.
    id = rid('inbound');
    const inbound = await change('post', '/v1/whatsapp/inbounds', id, { waba_phone_number: CLOUD.phoneNumber, flow_id: flowId, inbound_message: 'empezar' });
    const inboundId = inbound.body.inbound_id as string;
    await expectAudited(id, inbound, { resource_type: 'inbound', resource_id: inboundId, action: 'create', method: 'POST' });
    id = rid('inbound');
    await expectAudited(id, await change('delete', `/v1/whatsapp/inbounds/${inboundId}`, id), {
      resource_type: 'inbound',
      resource_id: inboundId,
      action: 'delete',
      method: 'DELETE',
    });

    id = rid('flow');
    await expectAudited(id, await change('post', `/v1/flows/${flowId}/archive`, id), { resource_type: 'flow', resource_id: flowId, action: 'archive', method: 'POST' });
    const other = (await change('post', '/v1/flows', rid('flow'), { name: 'Other', steps: steps('x') }).expect(201)).body.id as string;
    id = rid('flow');
    await expectAudited(id, await change('delete', `/v1/flows/${other}`, id), { resource_type: 'flow', resource_id: other, action: 'archive', method: 'DELETE' });

    // Outbounds (templates): create, a form body.
    id = rid('outbound');
    const outbound = await s.t.http
      .post('/v1/whatsapp/outbounds')
      .set('X-API-Key', writer.key)
      .set('X-Request-Id', id)
      .type('form')
      .send({ waba_phone_number: CLOUD.phoneNumber, is_notification: 'true', content: 'Tu código está listo.', category: 'UTILITY', template_type: 'TEXT', language_code: 'es' });
    const outboundId = outbound.body.outbound_id as string;
    const out = await expectAudited(id, outbound, { resource_type: 'outbound', resource_id: outboundId, action: 'create', method: 'POST' });
    expect(out.changes).toMatchObject({ content: 'Tu código está listo.', category: 'UTILITY' });

    // Hooks: create (secret shown), change, secret rotation, delete.
    id = rid('hook');
    const hook = await change('post', '/v1/hooks', id, { url: 'http://127.0.0.1:9/hook', events: ['process.succeeded'] });
    secrets.push(hook.body.secret);
    const hookId = hook.body.id as string;
    await expectAudited(id, hook, { resource_type: 'hook', resource_id: hookId, action: 'create', method: 'POST' });
    id = rid('hook');
    await expectAudited(id, await change('patch', `/v1/hooks/${hookId}`, id, { active: false }), { resource_type: 'hook', resource_id: hookId, action: 'update', method: 'PATCH' });
    id = rid('hook');
    const rotation = await change('post', `/v1/hooks/${hookId}/rotate-secret`, id);
    secrets.push(rotation.body.secret);
    await expectAudited(id, rotation, { resource_type: 'hook', resource_id: hookId, action: 'rotate_secret', method: 'POST' });
    id = rid('hook');
    await expectAudited(id, await change('delete', `/v1/hooks/${hookId}`, id), { resource_type: 'hook', resource_id: hookId, action: 'delete', method: 'DELETE' });

    // Tenant settings: the resource is the tenant.
    id = rid('settings');
    const settings = await expectAudited(id, await change('patch', '/v1/settings', id, { fallback_text: 'Escríbenos "empezar"' }), {
      resource_type: 'settings',
      resource_id: s.tenantId,
      action: 'update',
      method: 'PATCH',
    });
    expect(settings.changes).toEqual({ fallback_text: 'Escríbenos "empezar"' });

    // Filters: by resource, by type, by time.
    const flowRows = await log({ resource_type: 'flow', resource_id: flowId });
    expect(flowRows.map((e) => e.action)).toEqual(['archive', 'update', 'replace', 'create']);
    expect((await log({ resource_type: 'hook' })).map((e) => e.action)).toEqual(['delete', 'rotate_secret', 'update', 'create']);
    const lineCreatedAt = created.occurred_at;
    expect((await log({ resource_id: lineId, to: new Date(new Date(lineCreatedAt).getTime() + 1).toISOString() })).map((e) => e.action)).toEqual(['create']);
    expect((await log({ resource_id: lineId, from: new Date(new Date(lineCreatedAt).getTime() + 1).toISOString() })).map((e) => e.action)).toEqual([
      'delete',
      'rotate_webhook_token',
      'update',
    ]);
  });

  it('pages newest first with next_cursor, and refuses bad filters', async () => {
    const all = await log({ limit: 100 });
    expect(all.length).toBeGreaterThan(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: Entry[]; next_cursor: string | null } } = await s.t.http
        .get('/v1/audit-log')
        .set('X-API-Key', auditor.key)
        .query({ limit: 4, ...(cursor ? { cursor } : {}) })
        .expect(200);
      seen.push(...res.body.data.map((e) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect([...seen].sort().reverse()).toEqual(seen);
    expect((await s.t.http.get('/v1/audit-log').set('X-API-Key', auditor.key).query({ resource_type: 'processes' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
    expect((await s.t.http.get('/v1/audit-log').set('X-API-Key', auditor.key).query({ from: 'yesterday' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('keeps no secret in any audit row: line credentials, webhook tokens, hook secrets, API keys', async () => {
    const rows: Array<{ row: string }> = await s.t.db.query(`SELECT a::text AS row FROM audit_log a`);
    const dump = rows.map((r) => r.row).join('\n');
    expect(rows.length).toBeGreaterThan(20);
    expect(dump).toContain('[REDACTED]');
    for (const secret of secrets) {
      expect(typeof secret).toBe('string');
      expect(secret.length).toBeGreaterThan(8);
      expect(dump).not.toContain(secret);
    }
  });

  it("lists only the key's tenant's entries", async () => {
    const b = await s.t.newTenant('Other bank');
    secrets.push(b.apiKey);
    const bFlow = (
      await s.t.http
        .post('/v1/flows')
        .set('X-API-Key', b.apiKey)
        .send({ name: 'B', steps: steps('b') })
        .expect(201)
    ).body.id as string;
    const bAuditor = await newKey(b.tenantId, ['read', 'admin-of-tenant']);
    const bRows = await log({ limit: 100 }, bAuditor.key);
    expect(bRows.map((e) => e.resource_id)).toContain(bFlow);
    expect(bRows.every((e) => e.tenant_id === b.tenantId)).toBe(true);
    const aRows = await log({ limit: 100 });
    expect(aRows.every((e) => e.tenant_id === s.tenantId)).toBe(true);
    expect(await log({ resource_id: bFlow })).toEqual([]);
  });

  it('needs the admin-of-tenant scope: another key gets 403', async () => {
    const res = await s.t.http.get('/v1/audit-log').set('X-API-Key', writer.key).expect(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN', message: 'This API key lacks the admin-of-tenant scope (it has: read, write)' });
    expect((await s.t.http.get('/v1/audit-log').expect(401)).body.code).toBe('UNAUTHENTICATED');
  });

  it("records admin actions (tenants, keys, rate-limit overrides) as the admin's, in the admin log and the tenant's", async () => {
    const req = (id: string) => ({ ...admin, 'X-Request-Id': id });
    const tenant = (await s.t.http.post('/v1/admin/tenants').set(req('adm-tenant')).send({ name: 'Banco Audit' }).expect(201)).body;
    await s.t.http.patch(`/v1/admin/tenants/${tenant.id}`).set(req('adm-limit')).send({ rate_limit_per_second: 5, rate_limit_burst: 10 }).expect(200);
    const key = (
      await s.t.http
        .post(`/v1/admin/tenants/${tenant.id}/api-keys`)
        .set(req('adm-key'))
        .send({ name: 'ops', scopes: ['read', 'admin-of-tenant'] })
        .expect(201)
    ).body;
    secrets.push(key.key);
    await s.t.http.delete(`/v1/admin/tenants/${tenant.id}/api-keys/${key.id}`).set(req('adm-revoke')).expect(200);

    const res = await s.t.http.get('/v1/admin/audit-log').set(admin).query({ tenant_id: tenant.id }).expect(200);
    const rows: Entry[] = res.body.data;
    expect(rows.map((e) => [e.request_id, e.actor, e.tenant_id, e.resource_type, e.resource_id, e.action])).toEqual([
      ['adm-revoke', 'admin', tenant.id, 'api_key', key.id, 'revoke'],
      ['adm-key', 'admin', tenant.id, 'api_key', key.id, 'create'],
      ['adm-limit', 'admin', tenant.id, 'tenant', tenant.id, 'update'],
      ['adm-tenant', 'admin', tenant.id, 'tenant', tenant.id, 'create'],
    ]);
    expect(rows[2].changes).toEqual({ rate_limit_per_second: 5, rate_limit_burst: 10 });
    expect(rows[1].changes).toEqual({ name: 'ops', scopes: ['read', 'admin-of-tenant'] });
    expect(JSON.stringify(rows)).not.toContain(key.key);

    // Unfiltered, the admin log holds every tenant's; with the admin token only.
    const everything: Entry[] = (await s.t.http.get('/v1/admin/audit-log').set(admin).query({ limit: 100 }).expect(200)).body.data;
    expect(new Set(everything.map((e) => e.tenant_id)).size).toBeGreaterThan(2);
    expect((await s.t.http.get('/v1/admin/audit-log').set('X-API-Key', auditor.key).expect(401)).body.code).toBe('UNAUTHENTICATED');
    // The writer's tenant sees the admin's key creation for it (the suite's set-up).
    expect((await log({ resource_type: 'api_key' })).map((e) => e.resource_id)).toEqual(expect.arrayContaining([writer.id, auditor.id]));
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the table in the database', async () => {
    await expect(s.t.db.query(`UPDATE audit_log SET action = 'nothing'`)).rejects.toThrow(/audit_log is append-only \(UPDATE refused\)/);
    await expect(s.t.db.query(`DELETE FROM audit_log`)).rejects.toThrow(/audit_log is append-only \(DELETE refused\)/);
    await expect(s.t.db.query(`TRUNCATE audit_log`)).rejects.toThrow(/audit_log is append-only \(TRUNCATE refused\)/);
    expect(Number((await s.t.db.query(`SELECT count(*) AS n FROM audit_log WHERE action = 'nothing'`))[0].n)).toBe(0);
  });

  it('answers 500 when the audit row cannot be written, so a change is never reported done without its row', async () => {
    // The database refuses this one request's audit row.
    await s.t.db.query(`CREATE FUNCTION audit_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.request_id = 'aud-unwritable' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await s.t.db.query(`CREATE TRIGGER audit_refuse_one BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_one()`);
    try {
      const res = await change('patch', '/v1/settings', 'aud-unwritable', { fallback_text: 'sin registro' }).expect(500);
      expect(res.body).toMatchObject({ code: 'INTERNAL', requestId: 'aud-unwritable' });
      // The change itself stands (it committed first): the answer says something went wrong rather than "done".
      expect((await s.t.http.get('/v1/settings').set('X-API-Key', writer.key).expect(200)).body.fallback_text).toBe('sin registro');
    } finally {
      await s.t.db.query(`DROP TRIGGER audit_refuse_one ON audit_log`);
      await s.t.db.query(`DROP FUNCTION audit_refuse_one()`);
    }
    expect(await rowsWith('aud-unwritable')).toBe(0);
  });

  it('records nothing for a refused change (400, 403, 404, 409)', async () => {
    const bad = rid('fail');
    await change('post', '/v1/flows', bad, { name: 'Broken', steps: [{ id: 'a', type: 'message', text: 'x' }] }).expect(400);
    const readOnly = await newKey(s.tenantId, ['read']);
    const forbidden = rid('fail');
    await change('post', '/v1/hooks', forbidden, { url: 'http://127.0.0.1:9/h', events: ['process.succeeded'] }, readOnly.key).expect(403);
    const missing = rid('fail');
    await change('patch', '/v1/hooks/HOK00000000000000000000000000', missing, { active: true }).expect(404);
    const archived = (await change('post', '/v1/flows', rid('flow'), { name: 'A', steps: steps('a') }).expect(201)).body.id as string;
    await change('post', `/v1/flows/${archived}/archive`, rid('flow')).expect(200);
    const conflict = rid('fail');
    await change('put', `/v1/flows/${archived}`, conflict, { name: 'A2', steps: steps('a2') }).expect(409);
    const taken = rid('fail');
    await change('post', '/v1/whatsapp/numbers', taken, { phone_number: CLOUD.phoneNumber, provider: 'sandbox' }).expect(409);
    const adminMissing = 'adm-fail-404';
    await s.t.http
      .patch('/v1/admin/tenants/TNT00000000000000000000000000')
      .set({ ...admin, 'X-Request-Id': adminMissing })
      .send({ name: 'x' })
      .expect(404);
    for (const id of [bad, forbidden, missing, conflict, taken, adminMissing]) expect(await rowsWith(id)).toBe(0);
  });
});
