import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CertificatesService } from '../src/modules/signature/certificates.service.js';
import { contractingFlow, signContract, workContracting } from './support/contracting.js';
import { runTool, withVerifierDir } from './support/pdf-verifiers.js';
import { contractPdf, sha256 } from './support/pdfs.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';

interface Event {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  hash: string;
}

const VERIFY_PER_MINUTE = 12;

describe('the certificate of evidence, and verifying the PDFs issued here', () => {
  let chat: SandboxChat;
  let key: { 'X-API-Key': string };
  let processId: string;
  let signedPdf: Buffer;
  let certificate: Buffer;
  let verifications = 0;
  const scratch = mkdtempSync(path.join(tmpdir(), 'testigo-certificate-'));

  const certificateOf = (id: string) => chat.t.http.get(`/v1/processes/${id}/evidence/certificate.pdf`).set(key).buffer(true);
  const postVerify = (bytes: Buffer, type = 'application/pdf') => {
    verifications++;
    return chat.t.http.post('/v1/verify').set('Content-Type', type).send(bytes);
  };
  const trialRoot = async () => (await chat.t.http.get('/v1/signing/certificates').expect(200)).text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.at(-1)!;
  const pdfsig = (bytes: Buffer) =>
    withVerifierDir(trialRootPem, async (dir, nssdir) => {
      const file = path.join(dir, 'file.pdf');
      writeFileSync(file, bytes);
      return (await runTool('pdfsig', ['-nssdir', nssdir, file])).out;
    });
  let trialRootPem: string;

  beforeAll(async () => {
    chat = await sandboxChat({ env: { VERIFY_RATE_LIMIT_PER_MINUTE: String(VERIFY_PER_MINUTE) } });
    key = { 'X-API-Key': chat.apiKey };
    await chat.t.http
      .post('/v1/hooks')
      .set(key)
      .send({ url: 'https://hooks.example.com/testigo', events: ['evidence.certificate_ready'] })
      .expect(201);
    await contractingFlow(chat, 'firmar');
    trialRootPem = await trialRoot();
  });
  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await chat.close();
  });

  it('is 404 for an unknown process and 409 PROCESS_NOT_FINISHED while it runs', async () => {
    await certificateOf('PRC01NOTAPROCESS').expect(404);
    const user = '+573006670009';
    await chat.say(user, 'firmar');
    await workContracting(chat);
    const running = await chat.process(user);
    expect(running.status).toBe('pending');
    const res = await certificateOf(running.process_id).expect(409);
    expect(res.body).toMatchObject({ code: 'PROCESS_NOT_FINISHED' });
  });

  it('is made when the process ends: 202 with Retry-After until its job ran, then a sealed PDF/A-3b with the chain attached', async () => {
    ({ processId } = await signContract(chat, '+573006670001', 'firmar'));
    const pending = await certificateOf(processId).expect(202);
    expect(pending.headers['retry-after']).toBe('5');
    expect(pending.body).toEqual({ state: 'pending', retry_after_seconds: 5 });

    expect(await chat.t.app.get(CertificatesService).makeDue()).toBe(1);
    const res = await certificateOf(processId).expect(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    certificate = res.body as Buffer;
    expect(res.headers.etag).toBe(`"${sha256(certificate)}"`);

    // The chain now ends with the certificate's own issue, naming its hash; what the PDF states is the chain before it.
    const { events, head } = (await chat.t.http.get(`/v1/processes/${processId}/evidence`).set(key).expect(200)).body as { events: Event[]; head: string };
    const issued = events.at(-1)!;
    expect(issued).toMatchObject({ type: 'certificate.issued', payload: { sha256: sha256(certificate), level: 'B-B', chain_seq: events.length - 1 } });
    expect(issued.payload.head).toBe(events.at(-2)!.hash);
    expect(head).toBe(issued.hash);

    // qpdf extracts the attachment, and it is the API's chain up to the certificate.
    const file = path.join(scratch, 'certificate.pdf');
    writeFileSync(file, certificate);
    const attached = await runTool('qpdf', [`--show-attachment=evidence.json`, file]);
    expect(attached.code).toBe(0);
    const stated = JSON.parse(attached.out) as { process_id: string; events: Event[]; head: string };
    expect(stated.process_id).toBe(processId);
    expect(stated.events).toEqual(events.slice(0, -1));
    expect(stated.head).toBe(issued.payload.head);
    // Declared as PDF/A-3b, the attachment as Data.
    const qdf = path.join(scratch, 'certificate-qdf.pdf');
    await runTool('qpdf', ['--qdf', '--object-streams=disable', file, qdf]);
    const raw = readFileSync(qdf, 'latin1');
    expect(raw).toMatch(/<pdfaid:part>3<\/pdfaid:part>\s*<pdfaid:conformance>B<\/pdfaid:conformance>/);
    expect(raw).toContain('/AFRelationship /Data');
    expect(raw).toContain('/OutputIntents');

    // What a reader sees: the process, the documents' hashes, the timeline and the head.
    const text = (await runTool('pdftotext', ['-layout', file, '-'])).out;
    const result = await chat.process('+573006670001');
    expect(text).toContain('Certificate of evidence');
    expect(text).toContain(processId);
    expect(text).toContain(result.documents.original.sha256);
    expect(text).toContain(result.documents.signed.sha256);
    expect(text).toContain(issued.payload.head as string);
    expect(text).toContain('otp.verified');
    expect(text).toMatch(/Opt-in: the person wrote first \(message MSG/);
    expect(text).toContain('+57 300 ••• ');
    expect(text).not.toContain('+573006670001');

    // Sealed: pdfsig trusts it under the trial root; the evidence.certificate_ready hook was queued with its hash.
    expect(await pdfsig(certificate)).toContain('Signature is Valid.');
    const hooks: Array<{ data: Record<string, unknown> }> = await chat.t.db.query(`SELECT data FROM hook_events WHERE type = 'evidence.certificate_ready'`);
    expect(hooks.map((h) => h.data)).toEqual([
      expect.objectContaining({ process_id: processId, sha256: sha256(certificate), certificate_url: `/v1/processes/${processId}/evidence/certificate.pdf` }),
    ]);
    signedPdf = Buffer.from((await chat.t.http.get(`/v1/processes/${processId}/documents/signed.pdf`).set(key).buffer(true).expect(200)).body as Buffer);
  });

  it('verifies the whole evidence of the process: chain, signed contract and certificate', async () => {
    const verified = (await chat.t.http.get(`/v1/processes/${processId}/evidence/verify`).set(key).expect(200)).body;
    expect(verified).toEqual({ valid: true, broken_at: null, checks: { chain: true, checkpoint: null, signed_document: true, certificate: true }, purged_at: null });
  });

  it('POST /v1/verify (public) recognises both PDFs, and one changed byte in either is caught there and by pdfsig', async () => {
    for (const [bytes, kind] of [
      [signedPdf, 'signed_document'],
      [certificate, 'certificate'],
    ] as const) {
      const ok = await postVerify(bytes).expect(200);
      expect(ok.body).toEqual({ issued_here: true, kind, process_id: processId, intact: true, signature: { valid: true, level: 'B-B', signed_at: expect.any(String) } });

      // One byte inside what the signature covers (a page's content, well before the signature).
      const changed = Buffer.from(bytes);
      const at = Math.floor(changed.indexOf('stream') + 40);
      changed[at] = changed[at] ^ 0x01;
      const bad = await postVerify(changed).expect(200);
      expect(bad.body).toEqual({ issued_here: true, kind, process_id: processId, intact: false, signature: { valid: false, level: 'B-B', signed_at: expect.any(String) } });
      expect(await pdfsig(changed)).not.toContain('Signature is Valid.');

      // Bytes added after the seal: the signature still verifies, but the file is not the one issued.
      const appended = Buffer.concat([bytes, Buffer.from('\n% added\n')]);
      expect((await postVerify(appended).expect(200)).body).toMatchObject({ issued_here: true, kind, intact: false, signature: { valid: true } });
    }
  });

  it('says a PDF not issued here is not, refuses what is not a PDF, and answers a browser form with a page', async () => {
    expect((await postVerify(Buffer.from(await contractPdf(1))).expect(200)).body).toEqual({ issued_here: false, kind: null, process_id: null, intact: false, signature: null });
    const bad = await postVerify(Buffer.from('hello, not a pdf')).expect(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_PDF', details: [{ field: 'file' }] });
    verifications++;
    await chat.t.http.post('/v1/verify').set('Content-Type', 'text/plain').send('x').expect(415);

    verifications++;
    const page = await chat.t.http.post('/v1/verify').set('Accept', 'text/html').attach('file', signedPdf, 'contrato.pdf').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('Intact: this is the very file issued here');
    expect(page.text).not.toContain('<script');
    const form = await chat.t.http.get('/verify').expect(200);
    expect(form.text).toContain('action="/v1/verify"');
    expect(form.text).toContain('enctype="multipart/form-data"');
  });

  it('limits verifications per client address: 429 with Retry-After past VERIFY_RATE_LIMIT_PER_MINUTE', async () => {
    while (verifications < VERIFY_PER_MINUTE) await postVerify(Buffer.from('x')).expect(400);
    const limited = await postVerify(Buffer.from('x')).expect(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The API keys' own limits are apart: the process's evidence still answers.
    await chat.t.http.get(`/v1/processes/${processId}/evidence/verify`).set(key).expect(200);
  });

  it('reports a certificate whose chain was rewritten behind the trigger', async () => {
    await chat.t.db.query(`ALTER TABLE evidence_events DISABLE TRIGGER evidence_events_append_only`);
    try {
      await chat.t.db.query(`UPDATE evidence_events SET payload = (payload::jsonb || '{"text": "otra cosa"}')::json WHERE process_id = $1 AND seq = 2`, [processId]);
    } finally {
      await chat.t.db.query(`ALTER TABLE evidence_events ENABLE TRIGGER evidence_events_append_only`);
    }
    expect((await chat.t.http.get(`/v1/processes/${processId}/evidence/verify`).set(key).expect(200)).body).toMatchObject({
      valid: false,
      broken_at: 2,
      // The sealed chain in the certificate no longer matches the rows either.
      checks: { chain: false, checkpoint: null, signed_document: true, certificate: false },
    });
  });
});
