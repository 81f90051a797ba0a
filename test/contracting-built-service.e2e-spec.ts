import { startBuiltService, type BuiltService } from './support/built-service.js';
import { makePdf, sha256 } from './support/pdfs.js';

describe('contract documents and SMS settings through the built service', () => {
  let svc: BuiltService;
  let api: Record<string, string>;
  beforeAll(async () => {
    svc = await startBuiltService({ WORKERS_ENABLED: 'false' });
    api = { 'x-api-key': (await svc.newTenant('Built docs')).apiKey };
  }, 60_000);
  afterAll(() => svc?.stop());

  it('a multipart upload is downloaded byte for byte', async () => {
    const pdf = await makePdf(2);
    const form = new FormData();
    form.append('title', 'Contrato');
    form.append('file', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'contrato.pdf');
    const res = await fetch(`${svc.url}/v1/documents`, { method: 'POST', headers: api, body: form });
    const doc = (await res.json()) as { document_id: string; sha256: string; pages: number };
    expect(res.status).toBe(201);
    expect(doc).toMatchObject({ sha256: sha256(pdf), pages: 2 });
    const content = await fetch(`${svc.url}/v1/documents/${doc.document_id}/content`, { headers: api });
    expect(content.status).toBe(200);
    expect(content.headers.get('etag')).toBe(`"${doc.sha256}"`);
    expect(sha256(new Uint8Array(await content.arrayBuffer()))).toBe(sha256(pdf));
    const refused = await svc.request('POST', '/v1/documents', { raw: Buffer.from('plain text'), headers: { ...api, 'content-type': 'application/pdf' } });
    expect(refused).toMatchObject({ status: 400, body: { code: 'INVALID_PDF' } });
  });

  it('SMS settings round-trip without the token, and the sandbox SMS inbox answers', async () => {
    const sms = { provider: 'twilio', account_sid: 'AC0123456789abcdef0123456789abcdef', auth_token: 'built-service-token', from: '+14155550111' };
    const set = await svc.request('PATCH', '/v1/settings', { body: { sms }, headers: api });
    expect(set).toMatchObject({ status: 200, body: { sms: { provider: 'twilio', auth_token_set: true } } });
    expect(JSON.stringify(set.body)).not.toContain('built-service-token');
    expect((await svc.request('PATCH', '/v1/settings', { body: { sms: { provider: 'sandbox' } }, headers: api })).body.sms).toMatchObject({ provider: 'sandbox' });
    expect(await svc.request('GET', '/v1/sandbox/sms?phone=%2B573001112233', { headers: api })).toMatchObject({ status: 200, body: { data: [], next_cursor: null } });
  });
});
