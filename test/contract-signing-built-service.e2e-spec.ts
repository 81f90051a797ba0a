import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { contractPdf, sha256 } from './support/pdfs.js';
import { until } from './support/until.js';

const LINE = '+14155550123';

/** The whole contracting journey through the built service (dist/, as npm start runs it), its own workers and jobs. */
describe('certified contracting in the built service', () => {
  let svc: BuiltService;
  let key: Record<string, string>;
  const tmp = mkdtempSync(path.join(tmpdir(), 'testigo-contract-'));

  beforeAll(async () => {
    svc = await startBuiltService({ SANDBOX_STATUS_DELAY_MS: '0' });
    key = { 'X-API-Key': (await svc.newTenant('Seguros')).apiKey };
  });
  afterAll(async () => {
    await svc.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('sends the contract, takes the SMS code and delivers a PAdES-signed copy that pdfsig validates', async () => {
    const contract = await contractPdf(2);
    expect((await svc.request('PATCH', '/v1/settings', { headers: key, body: { sms: { provider: 'sandbox' } } })).status).toBe(200);
    expect((await svc.request('POST', '/v1/whatsapp/numbers', { headers: key, body: { phone_number: LINE, provider: 'sandbox' } })).status).toBe(201);
    const up = await svc.request('POST', '/v1/documents?title=Contrato', { headers: { ...key, 'content-type': 'application/pdf' }, raw: Buffer.from(contract) });
    expect(up.status).toBe(201);
    const flow = await svc.request('POST', '/v1/flows', {
      headers: key,
      body: {
        name: 'Firma',
        steps: [
          { id: 'doc', type: 'document', text: 'Tu contrato', document_id: up.body.document_id },
          { id: 'terms', type: 'consent', text: '¿Aceptas las condiciones?' },
          { id: 'code', type: 'otp', channel: 'sms' },
          { id: 'sign', type: 'signature' },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Firmado.' },
        ],
      },
    });
    expect(flow.status).toBe(201);
    const inbound = await svc.request('POST', '/v1/whatsapp/inbounds', { headers: key, body: { waba_phone_number: LINE, flow_id: flow.body.id, inbound_message: 'firmar' } });
    expect(inbound.status).toBe(201);

    const user = '+573009990001';
    const say = async (what: Record<string, string>) =>
      expect((await svc.request('POST', '/v1/sandbox/messages', { headers: key, body: { waba_phone_number: LINE, from: user, ...what } })).status).toBe(202);
    const processOf = async () => (await svc.request('GET', `/v1/processes?phone=${encodeURIComponent(user)}`, { headers: key })).body.data[0];

    await say({ text: 'firmar' });
    await until('the document question', async () => (await processOf())?.current_step_id === 'doc');
    await say({ reply_id: 'document:reviewed' });
    await until('the consent', async () => (await processOf())?.current_step_id === 'terms');
    await say({ reply_id: 'consent:accept' });
    const sms = await until('the SMS', async () => (await svc.request('GET', `/v1/sandbox/sms?phone=${encodeURIComponent(user)}`, { headers: key })).body.data[0]);
    const code = /\b(\d{6})\b/.exec(sms.body)![1];
    await say({ text: code });
    const done = await until(
      'the signed process',
      async () => {
        const p = await processOf();
        return p?.status === 'succeeded' && p;
      },
      30_000,
    );
    expect(done.documents.signed).toMatchObject({ level: 'B-B' });
    // The code stays out of the service's logs.
    expect(svc.output()).not.toContain(code);

    const res = await fetch(`${svc.url}/v1/processes/${done.process_id}/documents/signed.pdf`, { headers: key });
    expect(res.status).toBe(200);
    const signed = new Uint8Array(await res.arrayBuffer());
    expect(sha256(signed)).toBe(done.documents.signed.sha256);
    const file = path.join(tmp, 'signed.pdf');
    writeFileSync(file, signed);
    const report = execFileSync('pdfsig', ['-nocert', file], { encoding: 'utf8' });
    expect(report).toContain('Signature is Valid.');
    expect(report).toContain('ETSI.CAdES.detached');
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toContain(done.process_id);

    // The certificate of evidence, made by the service's own job once the process ended: sealed, the chain attached.
    const certificate = await until(
      'the certificate',
      async () => {
        const r = await fetch(`${svc.url}/v1/processes/${done.process_id}/evidence/certificate.pdf`, { headers: key });
        return r.status === 200 && new Uint8Array(await r.arrayBuffer());
      },
      30_000,
    );
    // Rendered in a worker thread of the service at the lowest CPU priority (nice 19), not on its event loop.
    const task = `/proc/${svc.child.pid}/task`;
    const nices = readdirSync(task).map((t) => Number(readFileSync(`${task}/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
    expect(nices).toContain(19);
    const certFile = path.join(tmp, 'certificate.pdf');
    writeFileSync(certFile, certificate);
    expect(execFileSync('pdfsig', ['-nocert', certFile], { encoding: 'utf8' })).toContain('Signature is Valid.');
    const attached = JSON.parse(execFileSync('qpdf', ['--show-attachment=evidence.json', certFile], { encoding: 'utf8' })) as { events: Array<{ hash: string }> };
    const evidence = (await svc.request('GET', `/v1/processes/${done.process_id}/evidence`, { headers: key })).body;
    expect(evidence.events.at(-1)).toMatchObject({ type: 'certificate.issued', payload: { sha256: sha256(certificate) } });
    expect(attached.events).toEqual(evidence.events.slice(0, -1));
    expect((await svc.request('GET', `/v1/processes/${done.process_id}/evidence/verify`, { headers: key })).body).toMatchObject({
      valid: true,
      checks: { chain: true, signed_document: true, certificate: true },
    });

    // Anyone holding either PDF can check it, without a key.
    for (const [bytes, kind] of [
      [signed, 'signed_document'],
      [certificate, 'certificate'],
    ] as const) {
      const verified = await fetch(`${svc.url}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: bytes });
      expect(verified.status).toBe(200);
      expect(await verified.json()).toMatchObject({ issued_here: true, kind, process_id: done.process_id, intact: true, signature: { valid: true } });
    }

    // Custody: a legal hold, and an erasure request that keeps the process in custody and says until when.
    const hold = await svc.request('POST', `/v1/processes/${done.process_id}/legal-hold`, { headers: key, body: { reason: 'Reclamo' } });
    expect(hold.status).toBe(200);
    expect(hold.body).toMatchObject({ legal_hold: { reason: 'Reclamo' }, retained_until: expect.any(String), purged_at: null });
    const erasure = await svc.request('POST', '/v1/privacy/erasure', { headers: key, body: { phone: user } });
    expect(erasure.status).toBe(200);
    expect(erasure.body.kept_in_custody).toEqual([{ process_id: done.process_id, retained_until: hold.body.retained_until }]);
  });
});
