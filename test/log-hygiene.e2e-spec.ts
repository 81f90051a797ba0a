import pg from 'pg';
import { SecretBox } from '../src/common/secrets/secret-box.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { TEST_SECRETS_KEY } from './support/test-app.js';

/** Everything secret or personal the scenario sends; none of it may reach the service's logs. */
const LINE = {
  phone_number: '+573007770001',
  provider: 'cloud_api',
  phone_number_id: '308000000000001',
  waba_id: '308000000000009',
  access_token: 'EAAG-log-hygiene-access-token',
  app_secret: 'log-hygiene-app-secret',
  verify_token: 'log-hygiene-verify-token',
};
const CHALLENGE = '1158201444';
const SMS_AUTH_TOKEN = 'log-hygiene-twilio-auth-token';
const USER = '+573008880002';
const OTHER_USER = '+573008880003';

describe('logs of the built service carry no secrets or phone numbers', () => {
  let svc: BuiltService;
  let fake: FakeGraph;
  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api' });
    fake.addPhoneNumber({ id: LINE.phone_number_id, phoneNumber: LINE.phone_number, accessToken: LINE.access_token });
    svc = await startBuiltService({ LOG_LEVEL: 'info', GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0', WORKERS_ENABLED: 'false' });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await fake?.close();
  });

  it('after a line, a webhook handshake, phone filters and a failing query', async () => {
    const { apiKey } = await svc.newTenant('Logs');
    const api = { 'x-api-key': apiKey };
    expect((await svc.request('POST', '/v1/whatsapp/numbers', { body: LINE, headers: api })).status).toBe(201);
    // A failed verification too: its message must not carry the token either.
    expect(
      (await svc.request('POST', '/v1/whatsapp/numbers', { body: { ...LINE, phone_number: '+573007770009', access_token: 'EAAG-wrong-log-token' }, headers: api })).status,
    ).toBe(422);

    // SMS settings with a Twilio token, accepted and refused (a bad base URL).
    const sms = { provider: 'twilio', account_sid: 'AC0123456789abcdef0123456789abcdef', auth_token: SMS_AUTH_TOKEN, from: '+14155550111' };
    expect((await svc.request('PATCH', '/v1/settings', { body: { sms }, headers: api })).status).toBe(200);
    expect((await svc.request('PATCH', '/v1/settings', { body: { sms: { ...sms, base_url: 'ftp://x' } }, headers: api })).status).toBe(400);
    expect((await svc.request('GET', `/v1/sandbox/sms?phone=${encodeURIComponent(USER)}`, { headers: api })).status).toBe(200);

    const handshake = await svc.request('GET', `/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${LINE.verify_token}&hub.challenge=${CHALLENGE}`);
    expect(handshake).toMatchObject({ status: 200, body: Number(CHALLENGE) });
    expect((await svc.request('GET', `/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=wrong-${LINE.verify_token}&hub.challenge=${CHALLENGE}`)).status).toBe(403);
    expect((await svc.request('GET', `/v1/processes?phone=${encodeURIComponent(USER)}&limit=5`, { headers: api })).status).toBe(200);
    expect((await svc.request('GET', `/v1/whatsapp/consents?phone=${encodeURIComponent(USER)}`, { headers: api })).status).toBe(200);
    expect((await svc.request('GET', `/v1/sandbox/messages?waba_phone_number=${encodeURIComponent(LINE.phone_number)}&phone=${USER}`, { headers: api })).status).toBeLessThan(500);

    // A query error the service cannot answer other than 500: the database refuses this user's consent.
    const db = new pg.Client({ connectionString: svc.databaseUrl });
    await db.connect();
    try {
      await db.query(`CREATE FUNCTION refuse_consent() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for %', NEW.phone; END $$`);
      await db.query(`CREATE TRIGGER refuse_consent BEFORE INSERT ON consents FOR EACH ROW EXECUTE FUNCTION refuse_consent()`);
    } finally {
      await db.end();
    }
    const failed = await svc.request('POST', '/v1/whatsapp/consents', {
      body: { phone: OTHER_USER, given_at: '2026-03-02T14:30:00Z', source: 'web_form', evidence: `https://example.com/consents/${LINE.app_secret}.pdf` },
      headers: api,
    });
    expect(failed.status).toBe(500);

    // Give the process a moment to flush its last lines.
    await new Promise((r) => setTimeout(r, 200));
    const logs = svc.output();
    // The scenario was logged (access lines and the 500), so the checks below look at real lines.
    expect(logs).toContain('/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=[REDACTED]&hub.challenge=[REDACTED]');
    expect(logs).toContain('"type":"QueryFailedError"');
    const digits = (p: string) => p.slice(1);
    for (const secret of [
      LINE.access_token,
      'EAAG-wrong-log-token',
      LINE.app_secret,
      LINE.verify_token,
      SMS_AUTH_TOKEN,
      CHALLENGE,
      apiKey,
      digits(USER),
      digits(OTHER_USER),
      digits(LINE.phone_number),
    ]) {
      // The offending lines, if any, show in the failure.
      expect(logs.split('\n').filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(logs).not.toMatch(/INSERT INTO|"parameters"|"query"/);
  }, 60_000);
});

describe('one-time codes sent by the built service reach the user and never its logs', () => {
  const OTP_LINE = { ...LINE, phone_number: '+573007770101', phone_number_id: '308000000000101', verify_token: 'otp-log-verify-token' };
  const CODE = '583920';
  const TOO_LONG = '5839201234567890';
  const OTP_USER = '+573008880102';
  let svc: BuiltService;
  let fake: FakeGraph;
  beforeAll(async () => {
    fake = await FakeGraph.start({ mode: 'cloud_api' });
    fake.addPhoneNumber({ id: OTP_LINE.phone_number_id, phoneNumber: OTP_LINE.phone_number, accessToken: OTP_LINE.access_token });
    svc = await startBuiltService({ LOG_LEVEL: 'debug', GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0' });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await fake?.close();
  });

  it('a copy-code template with its sealed code is sent by the queue; one too long fails without its value', async () => {
    const { apiKey, tenantId } = await svc.newTenant('OTP logs');
    const api = { 'x-api-key': apiKey };
    const line = await svc.request('POST', '/v1/whatsapp/numbers', { body: { ...OTP_LINE, throughput_mps: 100 }, headers: api });
    expect(line.status).toBe(201);
    fake.seedTemplate({
      name: 'tg_otp_logs',
      language: 'es',
      status: 'APPROVED',
      category: 'AUTHENTICATION',
      components: [
        { type: 'BODY', text: '*{{1}}* is your verification code.' },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Copy code', url: 'https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}' }] },
      ],
    });
    // Queued as the otp step queues them: the code sealed with the service's key (the one the tests run it with).
    const box = new SecretBox(TEST_SECRETS_KEY);
    const sealed = [box.seal(CODE), box.seal(TOO_LONG)];
    const db = new pg.Client({ connectionString: svc.databaseUrl });
    await db.connect();
    try {
      for (const [i, s] of sealed.entries()) {
        const content = { kind: 'template', name: 'tg_otp_logs', language: 'es', authCode: { sealed: s } };
        await db.query(
          `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, status, attempts, next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, 'outbound', 'template', $5, 'queued', 0, now(), now())`,
          [`MSG01OTPLOGS00000000000000${i}`, tenantId, line.body.id, OTP_USER, JSON.stringify(content)],
        );
      }
      const deadline = Date.now() + 20_000;
      let statuses: string[] = [];
      while (Date.now() < deadline) {
        statuses = (await db.query(`SELECT status FROM messages WHERE tenant_id = $1 ORDER BY id`, [tenantId])).rows.map((r) => r.status);
        if (!statuses.includes('queued')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(statuses).toEqual(['sent', 'failed']);
    } finally {
      await db.end();
    }
    expect(fake.authCodesSentTo(OTP_USER.slice(1))).toEqual([CODE]);
    const listed = await svc.request('GET', `/v1/whatsapp/messages?phone=${encodeURIComponent(OTP_USER)}`, { headers: api });
    expect(listed.body.data.map((m: { content: { authCode: string } }) => m.content.authCode)).toEqual(['******', '******']);

    await new Promise((r) => setTimeout(r, 200));
    const logs = svc.output();
    // The listing was logged, so the checks look at real lines.
    expect(logs).toContain('/v1/whatsapp/messages?phone=[REDACTED]');
    for (const secret of [CODE, TOO_LONG, ...sealed, ...sealed.map((s) => s.slice(-20))]) {
      expect(logs.split('\n').filter((l) => l.includes(secret))).toEqual([]);
    }
    expect(JSON.stringify(listed.body)).not.toMatch(new RegExp(`${CODE}|enc:v1:`));
  }, 60_000);
});
