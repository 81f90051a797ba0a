import { TenantsService } from '../src/modules/tenants/tenants.service.js';
import { GiveUp } from '../src/common/jobs/job-outcomes.js';
import { SmsService } from '../src/sms/sms.service.js';
import { smsJobError, SmsProviderError } from '../src/sms/sms-error.js';
import { TwilioSmsAdapter } from '../src/sms/twilio/twilio.adapter.js';
import { FakeTwilio } from './fakes/fake-twilio.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const USER = '+573001112233';

describe('SMS: tenant settings, the Twilio adapter, the sandbox inbox', () => {
  let t: TestApp;
  let twilio: FakeTwilio;
  let key: string;
  let tenantId: string;
  let twilioSettings: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp();
    twilio = await FakeTwilio.start();
    ({ apiKey: key, tenantId } = await t.newTenant('Sms'));
    twilioSettings = { provider: 'twilio', account_sid: twilio.account.sid, auth_token: twilio.account.token, from: '+14155550111', base_url: twilio.baseUrl };
  });
  afterAll(async () => {
    await t.close();
    await twilio.close();
  });

  const patch = (sms: unknown, apiKey = key) => t.http.patch('/v1/settings').set('X-API-Key', apiKey).send({ sms });
  const send = async (to = USER, body = 'Tu código es 482913') => {
    const settings = await t.app.get(TenantsService).smsSettings(tenantId);
    return t.app.get(SmsService).send(settings!, { tenantId, to, body });
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e as SmsProviderError,
    );

  describe('settings', () => {
    it('none by default; twilio settings are shown without the token, which is sealed at rest and redacted in the audit log', async () => {
      expect((await t.http.get('/v1/settings').set('X-API-Key', key).expect(200)).body.sms).toBeNull();
      const res = await patch(twilioSettings).expect(200);
      expect(res.body.sms).toEqual({ provider: 'twilio', account_sid: twilio.account.sid, from: '+14155550111', base_url: twilio.baseUrl, auth_token_set: true });
      expect((await t.http.get('/v1/settings').set('X-API-Key', key).expect(200)).body.sms).toEqual(res.body.sms);
      const [row] = await t.db.query(`SELECT sms, sms::text AS text FROM tenants WHERE id = $1`, [tenantId]);
      expect(row.sms.auth_token).toMatch(/^enc:v1:/);
      expect(row.text).not.toContain(twilio.account.token);
      const audit = await t.db.query(`SELECT changes::text AS changes FROM audit_log WHERE tenant_id = $1 AND resource_type = 'settings'`, [tenantId]);
      expect(audit.map((a: { changes: string }) => a.changes).join()).not.toContain(twilio.account.token);
      expect(await t.app.get(TenantsService).smsSettings(tenantId)).toEqual({ ...twilioSettings });
    });

    it('a change of the same account may omit the token; a form body carries sms as JSON', async () => {
      await patch({ ...twilioSettings, auth_token: undefined, from: '+14155550122' }).expect(200);
      expect(await t.app.get(TenantsService).smsSettings(tenantId)).toMatchObject({ from: '+14155550122', auth_token: twilio.account.token });
      await t.http
        .patch('/v1/settings')
        .set('X-API-Key', key)
        .type('form')
        .send({ sms: JSON.stringify(twilioSettings) })
        .expect(200);
      expect(await t.app.get(TenantsService).smsSettings(tenantId)).toEqual(twilioSettings);
    });

    it.each([
      [{ provider: 'carrier-pigeon' }, 'sms.provider'],
      [{ ...twilioSettingsOf(), account_sid: undefined }, 'sms.account_sid'],
      [{ ...twilioSettingsOf(), account_sid: 'AC123' }, 'sms.account_sid'],
      [{ ...twilioSettingsOf(), from: '3001234567' }, 'sms.from'],
      [{ ...twilioSettingsOf(), from: undefined }, 'sms.from'],
      [{ ...twilioSettingsOf(), base_url: 'http://sms.example.com' }, 'sms.base_url'],
      [{ ...twilioSettingsOf(), base_url: 'not a url' }, 'sms.base_url'],
      [{ ...twilioSettingsOf(), auth_token: 42 }, 'sms.auth_token'],
      [{ provider: 'sandbox', account_sid: 'AC0123456789abcdef0123456789abcdef' }, 'sms.account_sid'],
      [{ ...twilioSettingsOf(), extra: 1 }, 'sms.extra'],
      ['twilio', 'sms'],
    ])('%j is 400 naming %s', async (sms, field) => {
      const res = await patch(sms).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('a new tenant with twilio and no token is 400 naming sms.auth_token; null removes the settings', async () => {
      const other = await t.newTenant('No token');
      const res = await patch({ ...twilioSettings, auth_token: undefined }, other.apiKey).expect(400);
      expect(res.body.details[0].field).toBe('sms.auth_token');
      await patch({ provider: 'sandbox' }, other.apiKey).expect(200);
      expect((await patch(null, other.apiKey).expect(200)).body.sms).toBeNull();
      expect(await t.app.get(TenantsService).smsSettings(other.tenantId)).toBeNull();
    });
  });

  describe('through the fake Twilio', () => {
    beforeAll(() => patch(twilioSettings).expect(200));

    it('sends To, From and Body as a form with Basic auth and answers the message sid', async () => {
      const sent = await send();
      expect(sent.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
      expect(twilio.sent.at(-1)).toEqual({ accountSid: twilio.account.sid, To: USER, From: '+14155550111', Body: 'Tu código es 482913', sid: sent.providerMessageId });
      const call = twilio.calls.at(-1)!;
      expect(call.path).toBe(`/2010-04-01/Accounts/${twilio.account.sid}/Messages.json`);
      expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('a messaging service SID goes as MessagingServiceSid', async () => {
      const mg = `MG${'a'.repeat(32)}`;
      await patch({ ...twilioSettings, from: mg }).expect(200);
      await send();
      expect(twilio.sent.at(-1)).toMatchObject({ MessagingServiceSid: mg, From: undefined });
      await patch(twilioSettings).expect(200);
    });

    it('429 and 5xx are retryable, an invalid number (21211) and bad credentials are not', async () => {
      twilio.fail({ status: 429, code: 20429, message: 'Too Many Requests' }, { status: 500 }, { status: 503 });
      for (const code of ['RATE_LIMITED', 'TRANSIENT', 'TRANSIENT']) expect(await failure(send())).toMatchObject({ code, retryable: true });
      expect(await failure(send('+5730'))).toMatchObject({ code: 'INVALID_NUMBER', retryable: false, providerCode: 21211, httpStatus: 400 });
      twilio.fail({ status: 400, code: 21211, message: 'invalid' });
      expect(await failure(send())).toMatchObject({ code: 'INVALID_NUMBER', retryable: false });
      await t.db.query(`UPDATE tenants SET sms = jsonb_set(sms, '{auth_token}', to_jsonb('wrong-token-123'::text)) WHERE id = $1`, [tenantId]);
      const auth = await failure(send());
      expect(auth).toMatchObject({ code: 'AUTH', retryable: false, providerCode: 20003 });
      expect(smsJobError(auth)).toBeInstanceOf(GiveUp);
      await patch(twilioSettings).expect(200);
    });

    it('a dropped connection and a call past its time limit are retryable PROVIDER_UNREACHABLE', async () => {
      const adapter = t.app.get(TwilioSmsAdapter);
      adapter.totalMs = 500;
      try {
        twilio.fail('drop', 'hang');
        const dropped = await failure(send());
        expect(dropped).toMatchObject({ code: 'PROVIDER_UNREACHABLE', retryable: true });
        expect(smsJobError(dropped)).toBe(dropped);
        expect(await failure(send())).toMatchObject({ code: 'PROVIDER_UNREACHABLE', retryable: true, message: 'The SMS provider did not answer in time' });
      } finally {
        adapter.totalMs = 15_000;
      }
      // Then it works again.
      expect((await send()).providerMessageId).toMatch(/^SM/);
    });
  });

  describe('the sandbox SMS inbox', () => {
    it('records each SMS and lists a number’s, newest first, only the tenant’s own', async () => {
      await patch({ provider: 'sandbox' }).expect(200);
      const before = twilio.calls.length;
      await send(USER, 'primero');
      t.clock.advance(1000);
      await send(USER, 'segundo');
      await send('+573009998877', 'a otro número');
      expect(twilio.calls.length).toBe(before);
      const res = await t.http.get('/v1/sandbox/sms').query({ phone: USER }).set('X-API-Key', key).expect(200);
      expect(res.body).toEqual({
        data: [
          { to: USER, body: 'segundo', created_at: t.clock.now().toISOString() },
          { to: USER, body: 'primero', created_at: new Date(t.clock.now().getTime() - 1000).toISOString() },
        ],
        next_cursor: null,
      });
      const other = await t.newTenant('Other inbox');
      expect((await t.http.get('/v1/sandbox/sms').query({ phone: USER }).set('X-API-Key', other.apiKey).expect(200)).body.data).toEqual([]);
      const bad = await t.http.get('/v1/sandbox/sms').query({ phone: 'abc' }).set('X-API-Key', key).expect(400);
      expect(bad.body.details[0].field).toBe('phone');
      await t.http.get('/v1/sandbox/sms').query({ phone: USER }).expect(401);
    });
  });

  function twilioSettingsOf(): Record<string, unknown> {
    return { provider: 'twilio', account_sid: 'AC0123456789abcdef0123456789abcdef', auth_token: 'token-0123456789', from: '+14155550111', base_url: 'https://api.twilio.com' };
  }
});
