import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DocumentsService } from '../src/modules/documents/documents.service.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { encryptedPdf, makePdf, sha256 } from './support/pdfs.js';

const MB = 1_048_576;

describe('documents (/v1/documents)', () => {
  let t: TestApp;
  let key: string;
  let tenantId: string;
  let other: { tenantId: string; apiKey: string };
  let pdf3: Buffer;
  beforeAll(async () => {
    t = await createTestApp();
    ({ apiKey: key, tenantId } = await t.newTenant('Docs'));
    other = await t.newTenant('Other');
    pdf3 = await makePdf(3);
  });
  afterAll(() => t.close());

  const upload = (file: Buffer, filename = 'contrato.pdf', apiKey = key) =>
    t.http.post('/v1/documents').set('X-API-Key', apiKey).attach('file', file, { filename, contentType: 'application/pdf' });

  it('a multipart upload answers the document; the title defaults to the filename without extension', async () => {
    const res = await upload(pdf3, 'Contrato Servicio.pdf').expect(201);
    expect(res.body).toEqual({
      document_id: expect.stringMatching(/^DOC[0-9A-Z]{26}$/),
      title: 'Contrato Servicio',
      filename: 'Contrato Servicio.pdf',
      sha256: sha256(pdf3),
      pages: 3,
      size_bytes: pdf3.length,
      derived_from: null,
      created_at: t.clock.now().toISOString(),
    });
    const got = await t.http.get(`/v1/documents/${res.body.document_id}`).set('X-API-Key', key).expect(200);
    expect(got.body).toEqual(res.body);
    const [audit] = await t.db.query(`SELECT resource_type, resource_id, action, changes FROM audit_log WHERE resource_id = $1`, [res.body.document_id]);
    expect(audit).toMatchObject({ resource_type: 'document', action: 'create', changes: { title: 'Contrato Servicio', filename: 'Contrato Servicio.pdf' } });
  });

  it('a multipart title and a raw application/pdf body with ?title= and ?filename=', async () => {
    const titled = await t.http.post('/v1/documents').set('X-API-Key', key).field('title', 'Anexo I').attach('file', pdf3, 'anexo.pdf').expect(201);
    expect(titled.body).toMatchObject({ title: 'Anexo I', filename: 'anexo.pdf', pages: 3 });
    const raw = await t.http
      .post('/v1/documents')
      .query({ title: 'Raw contract', filename: 'raw.pdf' })
      .set('X-API-Key', key)
      .set('content-type', 'application/pdf')
      .send(pdf3)
      .expect(201);
    expect(raw.body).toMatchObject({ title: 'Raw contract', filename: 'raw.pdf', sha256: sha256(pdf3), size_bytes: pdf3.length });
    const bare = await t.http.post('/v1/documents').set('X-API-Key', key).set('content-type', 'application/pdf').send(pdf3).expect(201);
    expect(bare.body).toMatchObject({ title: 'document', filename: 'document.pdf' });
  });

  it('the content is the PDF, with the sha256 as ETag, a 304 for If-None-Match and the filename', async () => {
    const { body } = await upload(pdf3, 'descarga.pdf').expect(201);
    const res = await t.http
      .get(`/v1/documents/${body.document_id}/content`)
      .set('X-API-Key', key)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers.etag).toBe(`"${sha256(pdf3)}"`);
    expect(res.headers['content-disposition']).toContain('filename="descarga.pdf"');
    expect(sha256(res.body as Buffer)).toBe(sha256(pdf3));
    await t.http.get(`/v1/documents/${body.document_id}/content`).set('X-API-Key', key).set('If-None-Match', res.headers.etag).expect(304);
  });

  it('a file that is not a PDF is 400 INVALID_PDF naming file', async () => {
    for (const bytes of [Buffer.from('hello, this is text'), randomBytes(4096), Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2048)]), Buffer.alloc(0)]) {
      const res = await upload(bytes, 'fake.pdf').expect(400);
      expect(res.body).toMatchObject({ code: 'INVALID_PDF', details: [{ field: 'file' }] });
    }
  });

  it('an encrypted PDF is 400 PDF_ENCRYPTED, with a password to open it or without', async () => {
    for (const bytes of [await encryptedPdf('open-sesame'), await encryptedPdf()]) {
      const res = await upload(bytes, 'locked.pdf').expect(400);
      expect(res.body).toMatchObject({ code: 'PDF_ENCRYPTED', details: [{ field: 'file' }] });
    }
  });

  const hasQpdf = (() => {
    try {
      execFileSync('qpdf', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  (hasQpdf ? it : it.skip)('a PDF encrypted by qpdf (AES-256, empty user password) is 400 PDF_ENCRYPTED', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'testigo-qpdf-'));
    try {
      writeFileSync(path.join(dir, 'in.pdf'), pdf3);
      execFileSync('qpdf', ['--encrypt', '', 'owner-pw', '256', '--', path.join(dir, 'in.pdf'), path.join(dir, 'out.pdf')]);
      const res = await upload(readFileSync(path.join(dir, 'out.pdf')), 'qpdf.pdf').expect(400);
      expect(res.body).toMatchObject({ code: 'PDF_ENCRYPTED', details: [{ field: 'file' }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('over 20 MB is 413 PAYLOAD_TOO_LARGE naming file, multipart or raw, declared or streamed', async () => {
    const big = Buffer.concat([pdf3, Buffer.alloc(21 * MB - pdf3.length, 0x20)]);
    const multipart = await upload(big, 'big.pdf').expect(413);
    expect(multipart.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: [{ field: 'file' }] });
    const raw = await t.http.post('/v1/documents').set('X-API-Key', key).set('content-type', 'application/pdf').send(big).expect(413);
    expect(raw.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: [{ field: 'file' }] });
    // Without a Content-Length (chunked), the limit stops the stream.
    const chunked = await fetch(`${await url()}/v1/documents`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/pdf' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 21; i++) c.enqueue(new Uint8Array(MB));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // Exactly 20 MB is taken.
    const limit = Buffer.concat([pdf3, Buffer.alloc(20 * MB - pdf3.length, 0x20)]);
    expect((await upload(limit, 'limit.pdf').expect(201)).body.size_bytes).toBe(20 * MB);
  }, 60_000);

  it('another content type is 415 naming file; JSON is not read as a document', async () => {
    const json = await t.http.post('/v1/documents').set('X-API-Key', key).send({ file: 'x' }).expect(415);
    expect(json.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: [{ field: 'file' }] });
    await t.http.post('/v1/documents').set('X-API-Key', key).set('content-type', 'image/png').send(Buffer.from('png')).expect(415);
    const missing = await t.http.post('/v1/documents').set('X-API-Key', key).field('title', 'no file').expect(400);
    expect(missing.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'file' }] });
  });

  it('an upload without an API key is 401', async () => {
    await t.http.post('/v1/documents').attach('file', pdf3, 'x.pdf').expect(401);
  });

  it("another tenant's document and an unknown id are 404 DOCUMENT_NOT_FOUND", async () => {
    const { body } = await upload(pdf3, 'mine.pdf').expect(201);
    for (const path of [`/v1/documents/${body.document_id}`, `/v1/documents/${body.document_id}/content`]) {
      const res = await t.http.get(path).set('X-API-Key', other.apiKey).expect(404);
      expect(res.body.code).toBe('DOCUMENT_NOT_FOUND');
    }
    expect((await t.http.get('/v1/documents/DOC01JD3V6Q4T1Z0K6M3P9X2Y5B7C').set('X-API-Key', key).expect(404)).body.code).toBe('DOCUMENT_NOT_FOUND');
    const list = await t.http.get('/v1/documents').set('X-API-Key', other.apiKey).expect(200);
    expect(list.body).toEqual({ data: [], next_cursor: null });
  });

  it('lists newest first with a cursor', async () => {
    const page1 = await t.http.get('/v1/documents').query({ limit: 2 }).set('X-API-Key', key).expect(200);
    expect(page1.body.data).toHaveLength(2);
    const page2 = await t.http.get('/v1/documents').query({ limit: 2, cursor: page1.body.next_cursor }).set('X-API-Key', key).expect(200);
    const ids = [...page1.body.data, ...page2.body.data].map((d: { document_id: string }) => d.document_id);
    expect([...ids].sort().reverse()).toEqual(ids);
    await t.http.get('/v1/documents').query({ cursor: 'MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }).set('X-API-Key', key).expect(400);
  });

  it('DocumentsService: store checks the PDF, is idempotent per source and bytes; bytes and find round-trip', async () => {
    const docs = t.app.get(DocumentsService);
    const original = await docs.store(tenantId, pdf3, { title: 'Original', filename: 'o.pdf' });
    const signed = await makePdf(4);
    const first = await docs.store(tenantId, signed, { title: 'Signed', filename: 's.pdf', derivedFrom: original.id });
    const again = await docs.store(tenantId, new Uint8Array(signed), { title: 'Signed', filename: 's.pdf', derivedFrom: original.id });
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ derivedFrom: original.id, pages: 4, sha256: sha256(signed), tenantId });
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM documents WHERE derived_from = $1`, [original.id]);
    expect(n).toBe(1);
    expect(await docs.derivedFrom(tenantId, original.id)).toEqual([first]);
    expect(sha256(await docs.bytes(tenantId, first.id))).toBe(sha256(signed));
    expect(await docs.find(tenantId, first.id)).toEqual(first);
    expect(await docs.find(other.tenantId, first.id)).toBeNull();
    await expect(docs.store(tenantId, Buffer.from('not a pdf'), { title: 'x', filename: 'x.pdf', derivedFrom: original.id })).rejects.toMatchObject({ code: 'INVALID_PDF' });
    await expect(docs.store(other.tenantId, signed, { title: 'x', filename: 'x.pdf', derivedFrom: original.id })).rejects.toMatchObject({ code: 'DOCUMENT_NOT_FOUND' });
    // Concurrent retries of one copy keep one row.
    const copy = await makePdf(5);
    const racing = await Promise.all([1, 2, 3].map(() => docs.store(tenantId, copy, { title: 'C', filename: 'c.pdf', derivedFrom: original.id })));
    expect(new Set(racing.map((d) => d.id)).size).toBe(1);
  });

  const url = async () => {
    const addr = t.app.getHttpServer().address() as { port: number };
    return `http://127.0.0.1:${addr.port}`;
  };
});
