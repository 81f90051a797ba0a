import { createHmac } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../src/common/secrets/secret-box.js';
import { loadConfig } from '../src/config/app-config.js';
import { resealSecrets } from '../src/common/secrets/secrets-reseal.js';
import { startBuiltService } from './support/built-service.js';
import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';
import { TEST_SECRETS_KEY } from './support/test-app.js';

const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
const BSP_API_KEY = 'bsp-api-key-plaintext-4417';
const BSP_APP_SECRET = 'bsp-app-secret-plaintext-9921';

/** Every row of every table as text: what a dump of the database would show. */
async function dumpDatabase(db: DataSource): Promise<string> {
  const tables: Array<{ name: string }> = await db.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
  let out = '';
  for (const { name } of tables) {
    const rows: Array<{ row: string }> = await db.query(`SELECT t::text AS row FROM "${name}" t`);
    out += rows.map((r) => r.row).join('\n') + '\n';
  }
  return out;
}

const handshake = (s: CloudSetup, token: string) => s.t.http.get('/v1/whatsapp/webhook').query({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '4242' });

describe('Secrets at rest', () => {
  let s: CloudSetup;
  let hookSecret: string;

  beforeAll(async () => {
    s = await cloudSetup();
    await s.t.http
      .post('/v1/whatsapp/numbers')
      .set('X-API-Key', s.apiKey)
      .send({ phone_number: '+573001239999', provider: 'bsp', api_key: BSP_API_KEY, app_secret: BSP_APP_SECRET, base_url: 'http://127.0.0.1:9' })
      .expect(201);
    const hook = await s.t.http
      .post('/v1/hooks')
      .set('X-API-Key', s.apiKey)
      .send({ url: 'http://127.0.0.1:9/hook', events: ['process.succeeded'] })
      .expect(201);
    hookSecret = hook.body.secret;
    const rotated = await s.t.http.post(`/v1/hooks/${hook.body.id}/rotate-secret`).set('X-API-Key', s.apiKey).expect(200);
    hookSecret = rotated.body.secret;
  });
  afterAll(() => s.close());

  const plaintexts = () => [CLOUD.accessToken, CLOUD.appSecret, CLOUD.verifyToken, BSP_API_KEY, BSP_APP_SECRET, hookSecret];

  it('no secret appears in clear anywhere in the database, nor an unkeyed hash of the verify token', async () => {
    const dump = await dumpDatabase(s.t.db);
    expect(dump).toContain(CLOUD.phoneNumberId); // the dump does hold the lines
    for (const secret of plaintexts()) expect(dump).not.toContain(secret);
    // Both hook secrets (current and previous) are sealed.
    const [hook] = await s.t.db.query(`SELECT secret, previous_secret FROM hooks`);
    expect(hook.secret).toMatch(/^enc:v1:[0-9a-f]{12}:/);
    expect(hook.previous_secret).toMatch(/^enc:v1:[0-9a-f]{12}:/);
    const [line] = await s.t.db.query(`SELECT secrets FROM whatsapp_lines WHERE provider = 'cloud_api'`);
    expect(line.secrets.access_token).toMatch(/^enc:v1:/);
    expect(line.secrets.verify_token_hmac).toMatch(/^[0-9a-f]{12}:[0-9a-f]{64}$/);
    expect(dump).not.toContain(createHmac('sha256', '').update(CLOUD.verifyToken).digest('hex'));
  });

  it('the webhook handshake still finds the line by its verify token, and only by the right one', async () => {
    await handshake(s, CLOUD.verifyToken).expect(200, '4242');
    await handshake(s, CLOUD.verifyToken + 'x').expect(403);
  });

  it('rotation re-seals everything with the first key and round-trips', async () => {
    const before = await s.t.db.query(`SELECT id, secrets FROM whatsapp_lines ORDER BY id`);
    const rotated = await resealSecrets(s.t.databaseUrl, new SecretBox(`${OTHER_KEY},${TEST_SECRETS_KEY}`), { rotate: true });
    expect(rotated.rows).toBe(3); // two lines and the hook
    const other = new SecretBox(OTHER_KEY);
    const lines = await s.t.db.query(`SELECT id, secrets FROM whatsapp_lines ORDER BY id`);
    for (const [i, line] of lines.entries()) {
      for (const f of ['access_token', 'app_secret', 'verify_token', 'api_key']) {
        if (!line.secrets[f]) continue;
        expect(SecretBox.keyIdOf(line.secrets[f])).toBe(other.currentKeyId);
        expect(other.open(line.secrets[f])).toBe(new SecretBox(TEST_SECRETS_KEY).open(before[i].secrets[f]));
      }
    }
    const [hook] = await s.t.db.query(`SELECT secret FROM hooks`);
    expect(other.open(hook.secret)).toBe(hookSecret);
    // Only the new key is needed now: the old one alone no longer opens them.
    expect(() => new SecretBox(TEST_SECRETS_KEY).open(hook.secret)).toThrow(/does not hold/);
    // A second rotation with the same first key has nothing to do.
    expect((await resealSecrets(s.t.databaseUrl, new SecretBox(OTHER_KEY), { rotate: true })).rows).toBe(0);
    // And back to the app's key: the running app (SECRETS_KEY = the test key) matches the handshake again.
    await resealSecrets(s.t.databaseUrl, new SecretBox(`${TEST_SECRETS_KEY},${OTHER_KEY}`), { rotate: true });
    await handshake(s, CLOUD.verifyToken).expect(200, '4242');
  });

  it('a SECRETS_KEY of the wrong length or not base64 is refused, naming the variable but not the value', () => {
    for (const bad of [Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64'), 'not base64!', `${TEST_SECRETS_KEY},short`]) {
      let message = '';
      try {
        loadConfig({ SECRETS_KEY: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/SECRETS_KEY key #\d is \d+ bytes once base64-decoded; each key must be exactly 32 bytes/);
      expect(message).not.toContain(bad);
    }
    expect(loadConfig({ SECRETS_KEY: `${TEST_SECRETS_KEY}, ${OTHER_KEY}` }).SECRETS_KEY).toBeDefined();
  });
});

describe('Secrets key at start (built service)', () => {
  it('seals clear secrets left by an older version, then refuses to start with a wrong key, a short key or none', async () => {
    const s = await cloudSetup();
    try {
      // As an older version stored them: in clear.
      await s.t.db.query(`UPDATE whatsapp_lines SET secrets = jsonb_build_object('access_token', $1::text, 'app_secret', $2::text, 'verify_token', $3::text)`, [
        CLOUD.accessToken,
        CLOUD.appSecret,
        CLOUD.verifyToken,
      ]);
      const svc = await startBuiltService({ DATABASE_URL: s.t.databaseUrl });
      try {
        const [line] = await s.t.db.query(`SELECT secrets FROM whatsapp_lines`);
        expect(line.secrets.access_token).toMatch(/^enc:v1:/);
        expect(JSON.stringify(line.secrets)).not.toContain(CLOUD.appSecret);
        const ok = await svc.request('GET', `/v1/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${CLOUD.verifyToken}&hub.challenge=77`);
        expect(ok).toMatchObject({ status: 200, body: 77 });
      } finally {
        await svc.stop();
      }

      const start = (env: Record<string, string>) =>
        startBuiltService({ DATABASE_URL: s.t.databaseUrl, ...env }).then(
          async (svc) => (await svc.stop(), 'started'),
          (err: Error) => err.message,
        );
      const wrong = await start({ SECRETS_KEY: OTHER_KEY });
      expect(wrong).toContain(`SECRETS_KEY: A stored secret is sealed under key id ${new SecretBox(TEST_SECRETS_KEY).currentKeyId}, which SECRETS_KEY does not hold`);
      expect(await start({ SECRETS_KEY: Buffer.alloc(31).toString('base64') })).toContain('SECRETS_KEY key #1 is 31 bytes once base64-decoded');
      expect(await start({ SECRETS_KEY: '' })).toContain('SECRETS_KEY is required when DATABASE_URL is set');
    } finally {
      await s.close();
    }
  }, 120_000);
});
