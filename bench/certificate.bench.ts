import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OutgoingHttp } from '../src/common/http/outgoing-http.js';
import { DnsHostResolver } from '../src/common/http/url-guard.js';
import { loadConfig } from '../src/config/app-config.js';
import { renderCertificate, type CertificateModel } from '../src/modules/signature/certificate-pdf.js';
import { maskPhone } from '../src/modules/signature/texts.js';
import { FileSigningKey } from '../src/signing/file-signing-key.adapter.js';
import { PdfSigning } from '../src/signing/pdf-signing.service.js';
import { startFakeTsa } from '../test/fakes/fake-tsa.js';
import { timed } from './support.js';

/** Certificates per row (BENCH_CERTIFICATES), one at a time: rendering and sealing are CPU work in this process. */
const N = Number(process.env.BENCH_CERTIFICATES ?? 40);
const EVENTS = 60;
const AT = new Date('2026-01-01T00:00:00Z');
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** A contracting process's certificate with 60 evidence events: rendered (PDF/A-3b), then sealed B-B, and B-T against a local TSA. */
export default async function run(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'testigo-bench-certificate-'));
  const tsa = await startFakeTsa();
  try {
    const types = ['message.received', 'message.queued', 'answer', 'document.sent', 'otp.sent'];
    const events = Array.from({ length: EVENTS }, (_, i) => ({
      seq: i + 1,
      type: types[i % types.length],
      occurred_at: new Date(AT.getTime() + i * 7_000).toISOString(),
      payload: { message_id: `MSG01BENCH${i}`, text: `Respuesta número ${i}: acepto las condiciones`, from: '+573001234567' },
      prev_hash: hex(String(i - 1)),
      hash: hex(String(i)),
    }));
    const model: CertificateModel = {
      issuedAt: AT,
      process: { id: 'PRC01BENCH', status: 'succeeded', failureReason: null, origin: 'outbound', startedAt: AT.toISOString(), finishedAt: AT.toISOString() },
      tenant: { id: 'TNT01BENCH', name: 'Seguros Andinos S.A.' },
      flow: { id: 'FLW01BENCH', name: 'Contrato hogar', version: 3 },
      line: '+14155550100',
      person: { maskedPhone: maskPhone('+573001234567'), signerName: null },
      documents: [
        { label: 'Contract (original)', id: 'DOC01A', sha256: hex('a'), detail: 'received and reviewed' },
        { label: 'Contract (signed)', id: 'DOC01B', sha256: hex('b'), detail: 'PAdES B-T' },
      ],
      optIn: 'the person wrote first (message MSG01 at 2026-01-01T00:00:00.000Z)',
      consent: 'terms: accepted',
      otp: 'sms, verified, 0 wrong attempt(s), 0 resend(s)',
      events,
      head: events.at(-1)!.hash,
      checkpoint: { treeSize: 1_000_000, rootHash: hex('root'), issuedAt: AT.toISOString(), inclusionProof: Array.from({ length: 20 }, (_, i) => hex(`p${i}`)) },
      verificationUrl: 'https://testigo.example.com/verify?process=PRC01BENCH',
      evidenceJson: Buffer.from(JSON.stringify({ process_id: 'PRC01BENCH', events, head: events.at(-1)!.hash }, null, 2)),
    };
    const signing = (env: Record<string, string>) => {
      const config = loadConfig({ DATA_DIR: dataDir, ALLOW_LOCAL_URLS: 'true', SIGNING_TRIAL: 'true', ...env });
      return new PdfSigning(new FileSigningKey(config), config, new OutgoingHttp(config, new DnsHostResolver()));
    };
    const bb = signing({});
    const bt = signing({ TSA_URL: tsa.url });
    const size = (await renderCertificate(model)).length;
    console.log(`certificate of ${EVENTS} events, ${(size / 1024).toFixed(0)} kB unsealed; ${N} per row, one at a time`);
    console.log('                                                         p50       p99  certificates');
    await timed('render (pdfkit, PDF/A-3b, evidence.json attached)', N, () => renderCertificate(model));
    await timed('render + seal, B-B', N, async () => bb.sign(await renderCertificate(model), { reason: 'Certificate of evidence', signingTime: AT }));
    await timed('render + seal, B-T (local TSA)', N, async () => bt.sign(await renderCertificate(model), { reason: 'Certificate of evidence', signingTime: AT }));
  } finally {
    await tsa.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
