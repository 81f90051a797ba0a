import { createHash } from 'node:crypto';
import pg from 'pg';
import { FakeGraph } from './fakes/fake-graph.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { CLOUD } from './support/cloud-line.js';

/** A KYC flow whose photo answer is a file: the result carries the file's SHA-256 once it is downloaded. */
const FLOW = {
  name: 'KYC',
  steps: [
    { id: 'photo', type: 'media', text: 'Envía una foto de tu documento', accept: ['image', 'document'] },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('inbound media in the built service (dist/, as npm start runs it)', () => {
  let svc: BuiltService;
  let cloud: FakeGraph;
  let bsp: FakeGraph;
  let db: pg.Client;

  beforeAll(async () => {
    cloud = await FakeGraph.start({ mode: 'cloud_api', accessToken: CLOUD.accessToken });
    bsp = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
    // CDN-style redirects on both: the download has to follow them.
    cloud.redirectMediaDownloads = true;
    bsp.redirectMediaDownloads = true;
    svc = await startBuiltService({ GRAPH_API_BASE_URL: cloud.baseUrl, GRAPH_API_VERSION: 'v23.0' });
    db = new pg.Client({ connectionString: svc.databaseUrl });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await svc?.stop();
    await cloud?.close();
    await bsp?.close();
  });

  /** Tenant, line, flow and inbound trigger through the API; returns how to post the line's webhooks. */
  async function tenantWithFlow(name: string, line: Record<string, unknown>): Promise<{ apiKey: string; post: (body: object) => Promise<void> }> {
    const { apiKey } = await svc.newTenant(name);
    const auth = { 'X-API-Key': apiKey };
    if (line.provider === 'cloud_api') cloud.addPhoneNumber({ id: String(line.phone_number_id), phoneNumber: String(line.phone_number), accessToken: String(line.access_token) });
    const created = await svc.request('POST', '/v1/whatsapp/numbers', { body: line, headers: auth });
    expect(created.status).toBe(201);
    const flow = await svc.request('POST', '/v1/flows', { body: FLOW, headers: auth });
    expect(flow.status).toBe(201);
    const inbound = await svc.request('POST', '/v1/whatsapp/inbounds', { body: { waba_phone_number: line.phone_number, flow_id: flow.body.id, inbound_message: 'validar' }, headers: auth });
    expect(inbound.status).toBe(201);
    const post = async (body: object) => {
      const raw = JSON.stringify(body);
      const res =
        line.provider === 'bsp'
          ? await svc.request('POST', `/v1/whatsapp/webhook/bsp/${created.body.id}?token=${created.body.webhook_token}`, { raw, headers: { 'content-type': 'application/json' } })
          : await svc.request('POST', '/v1/whatsapp/webhook', { raw, headers: { 'content-type': 'application/json', 'x-hub-signature-256': FakeGraph.signBody(CLOUD.appSecret, raw) } });
      expect(res.status).toBe(200);
    };
    return { apiKey, post };
  }

  async function runKyc(t: { apiKey: string; post: (body: object) => Promise<void> }, envelope: (from: string) => object, fake: FakeGraph, from: string, bytes: Buffer) {
    const msg = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from };
    await t.post(FakeGraph.textMessage({ ...msg, text: 'validar' }));
    await until('the photo prompt', async () => fake.sentTo(from).length > 0 || null);
    await t.post(envelope(from));
    const process = await until('the stored photo in the process result', async () => {
      const res = await svc.request('GET', `/v1/processes?phone=%2B${from}`, { headers: { 'X-API-Key': t.apiKey } });
      const p = res.body?.data?.[0];
      return p?.answers?.photo?.media?.status === 'stored' ? p : null;
    });
    expect(process).toMatchObject({ status: 'succeeded', answers: { photo: { media: { status: 'stored', sha256: sha256(bytes) } } } });
    return process;
  }

  it('downloads a Cloud API image answer through a redirect and keeps its SHA-256 in media_files and the result', async () => {
    const t = await tenantWithFlow('Banco', {
      phone_number: CLOUD.phoneNumber,
      provider: 'cloud_api',
      phone_number_id: CLOUD.phoneNumberId,
      waba_id: CLOUD.wabaId,
      access_token: CLOUD.accessToken,
      app_secret: CLOUD.appSecret,
      verify_token: CLOUD.verifyToken,
    });
    const bytes = Buffer.from('jpeg bytes of an identity card');
    cloud.addMedia('kyc-photo-1', bytes, 'image/jpeg');
    const from = '573005550001';
    await runKyc(t, (f) => FakeGraph.imageMessage({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from: f, mediaId: 'kyc-photo-1', mimeType: 'image/jpeg' }), cloud, from, bytes);
    const { rows } = await db.query(`SELECT status, sha256, size_bytes, attempts, error FROM media_files WHERE provider_media_id = 'kyc-photo-1'`);
    expect(rows).toEqual([{ status: 'stored', sha256: sha256(bytes), size_bytes: bytes.length, attempts: 1, error: null }]);
    expect(cloud.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/media-redirect/kyc-photo-1', '/media-download/kyc-photo-1']));
  });

  it('downloads a BSP document answer through a redirect for another tenant', async () => {
    const t = await tenantWithFlow('Fintech', { phone_number: '+573001230055', provider: 'bsp', api_key: 'd360-key', base_url: bsp.baseUrl });
    const bytes = Buffer.from('%PDF-1.4 identity document');
    bsp.addMedia('kyc-doc-1', bytes, 'application/pdf');
    const from = '573005550002';
    await runKyc(
      t,
      (f) => FakeGraph.documentMessage({ phoneNumberId: 'bsp', displayPhone: '573001230055', from: f, mediaId: 'kyc-doc-1', filename: 'cedula.pdf', mimeType: 'application/pdf' }),
      bsp,
      from,
      bytes,
    );
    const { rows } = await db.query(`SELECT status, sha256, attempts FROM media_files WHERE provider_media_id = 'kyc-doc-1'`);
    expect(rows).toEqual([{ status: 'stored', sha256: sha256(bytes), attempts: 1 }]);
  });
});
