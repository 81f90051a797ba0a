import { createHash } from 'node:crypto';
import pg from 'pg';
import { FakeGraph } from './fakes/fake-graph.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { CLOUD, cloudLineBody } from './support/cloud-line.js';
import { until } from './support/until.js';

/** A KYC flow whose photo answer is a file: the result carries the file's SHA-256 once it is downloaded. */
const FLOW = {
  name: 'KYC',
  steps: [
    { id: 'photo', type: 'media', text: 'Envía una foto de tu documento', accept: ['image', 'document'] },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
  ],
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

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
    const inbound = await svc.request('POST', '/v1/whatsapp/inbounds', {
      body: { waba_phone_number: line.phone_number, flow_id: flow.body.id, inbound_message: 'validar' },
      headers: auth,
    });
    expect(inbound.status).toBe(201);
    const post = async (body: object) => {
      const raw = JSON.stringify(body);
      const res =
        line.provider === 'bsp'
          ? await svc.request('POST', `/v1/whatsapp/webhook/bsp/${created.body.id}?token=${created.body.webhook_token}`, { raw, headers: { 'content-type': 'application/json' } })
          : await svc.request('POST', '/v1/whatsapp/webhook', {
              raw,
              headers: { 'content-type': 'application/json', 'x-hub-signature-256': FakeGraph.signBody(CLOUD.appSecret, raw) },
            });
      expect(res.status).toBe(200);
    };
    return { apiKey, post };
  }

  /** The file's content as the API serves it, read whole. */
  async function content(url: string, apiKey: string, headers: Record<string, string> = {}) {
    const res = await fetch(svc.url + url, { headers: { 'X-API-Key': apiKey, ...headers } });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
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
    const t = await tenantWithFlow('Banco', cloudLineBody());
    const bytes = Buffer.from('jpeg bytes of an identity card');
    cloud.addMedia('kyc-photo-1', bytes, 'image/jpeg');
    const from = '573005550001';
    await runKyc(
      t,
      (f) => FakeGraph.imageMessage({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from: f, mediaId: 'kyc-photo-1', mimeType: 'image/jpeg' }),
      cloud,
      from,
      bytes,
    );
    const { rows } = await db.query(`SELECT status, sha256, size_bytes, attempts, error FROM media_files WHERE provider_media_id = 'kyc-photo-1'`);
    expect(rows).toEqual([{ status: 'stored', sha256: sha256(bytes), size_bytes: bytes.length, attempts: 1, error: null }]);
    expect(cloud.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/media-redirect/kyc-photo-1', '/media-download/kyc-photo-1']));
  });

  it('serves the stored answer at its content_url from the FileStore (not the database), with its type, length and ETag; 304 for that ETag', async () => {
    const { apiKey } = await svc.newTenant('Banco');
    const t = await tenantWithFlow('Banco 2', {
      phone_number: '+573001230066',
      provider: 'bsp',
      api_key: 'd360-key',
      base_url: bsp.baseUrl,
    });
    const bytes = Buffer.from('jpeg bytes of a selfie with the card');
    bsp.addMedia('kyc-photo-2', bytes, 'image/jpeg');
    const from = '573005550003';
    const process = await runKyc(
      t,
      (f) => FakeGraph.imageMessage({ phoneNumberId: 'bsp', displayPhone: '573001230066', from: f, mediaId: 'kyc-photo-2', mimeType: 'image/jpeg' }),
      bsp,
      from,
      bytes,
    );
    const media = process.answers.photo.media;
    expect(media.content_url).toBe(`/v1/files/${media.id}/content`);
    // The bytes are in the store at ab/cd/<sha256>, not in the row.
    const { rows } = await db.query(`SELECT storage_key, data IS NULL AS no_data FROM media_files WHERE id = $1`, [media.id]);
    expect(rows).toEqual([{ storage_key: sha256(bytes), no_data: true }]);
    const onDisk = await import('node:fs').then((fs) => fs.readFileSync(`${svc.filesDir}/${sha256(bytes).slice(0, 2)}/${sha256(bytes).slice(2, 4)}/${sha256(bytes)}`));
    expect(onDisk.equals(bytes)).toBe(true);

    const got = await content(media.content_url, t.apiKey);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(bytes));
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('content-length')).toBe(String(bytes.length));
    expect(got.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(got.headers.get('content-disposition')).toBe('attachment');

    const again = await content(media.content_url, t.apiKey, { 'If-None-Match': `W/"other", "${sha256(bytes)}"` });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    expect(again.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect((await content(media.content_url, t.apiKey, { 'If-None-Match': '"stale"' })).status).toBe(200);

    // Another tenant's key finds no such file.
    const other = await content(media.content_url, apiKey);
    expect(other.status).toBe(404);
    expect(JSON.parse(other.bytes.toString())).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });

    // The message lists the same file with its link.
    const messages = await svc.request('GET', `/v1/whatsapp/messages?phone=%2B${from}&direction=inbound`, { headers: { 'X-API-Key': t.apiKey } });
    const withMedia = messages.body.data.find((m: { media: unknown[] }) => m.media.length > 0);
    expect(withMedia.media).toEqual([expect.objectContaining({ id: media.id, content_url: media.content_url, sha256: sha256(bytes) })]);
  });

  it('still serves a file stored the old way (bytes in media_files.data), with the filename it came with', async () => {
    const t = await svc.newTenant('Legacy');
    const bytes = Buffer.from('%PDF-1.4 stored before the file store');
    const { rows } = await db.query(`SELECT id FROM whatsapp_lines LIMIT 1`);
    await db.query(
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, status, created_at)
                    VALUES ('MSGLEGACY1', $1, $2, '+573005550009', 'inbound', 'document', '{}', 'received', now())`,
      [t.tenantId, rows[0].id],
    );
    await db.query(
      `INSERT INTO media_files (id, tenant_id, message_id, line_id, provider_media_id, status, mime_type, size_bytes, sha256, data, filename, created_at, stored_at)
       VALUES ('MEDLEGACY1', $1, 'MSGLEGACY1', $2, 'old-media', 'stored', 'application/pdf', $3, $4, $5, 'cédula vieja.pdf', now(), now())`,
      [t.tenantId, rows[0].id, bytes.length, sha256(bytes), bytes],
    );
    const got = await content('/v1/files/MEDLEGACY1/content', t.apiKey);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('content-length')).toBe(String(bytes.length));
    expect(got.headers.get('content-disposition')).toBe(`attachment; filename="c_dula vieja.pdf"; filename*=UTF-8''c%C3%A9dula%20vieja.pdf`);
  });

  it('refuses to start beside an external database with no FILES_DIR (files would land in a folder nobody keeps)', async () => {
    await expect(startBuiltService({ FILES_DIR: '' })).rejects.toThrow(/FILES_DIR is required when DATABASE_URL is set and FILE_STORE=local/);
  }, 30_000);

  it('answers FILE_NOT_STORED for a file whose download has not finished', async () => {
    const t = await svc.newTenant('Pending');
    const { rows } = await db.query(`SELECT id FROM whatsapp_lines LIMIT 1`);
    await db.query(
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, status, created_at)
                    VALUES ('MSGPENDING1', $1, $2, '+573005550010', 'inbound', 'image', '{}', 'received', now())`,
      [t.tenantId, rows[0].id],
    );
    // No download job: it stays pending.
    await db.query(
      `INSERT INTO media_files (id, tenant_id, message_id, line_id, provider_media_id, status, created_at)
       VALUES ('MEDPENDING1', $1, 'MSGPENDING1', $2, 'later', 'pending', now())`,
      [t.tenantId, rows[0].id],
    );
    const got = await content('/v1/files/MEDPENDING1/content', t.apiKey);
    expect(got.status).toBe(409);
    expect(JSON.parse(got.bytes.toString())).toMatchObject({ code: 'FILE_NOT_STORED', details: { status: 'pending' } });
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
