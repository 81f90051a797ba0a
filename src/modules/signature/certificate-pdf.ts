import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { maskPhone } from './texts.js';

/** One line of the timeline: an evidence event. */
export interface CertificateEvent {
  seq: number;
  type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
  hash: string;
}

/** What a certificate of evidence states. */
export interface CertificateModel {
  issuedAt: Date;
  process: { id: string; status: string; failureReason: string | null; origin: string; startedAt: string; finishedAt: string | null };
  tenant: { id: string; name: string };
  flow: { id: string; name: string; version: number };
  line: string | null;
  person: { maskedPhone: string; signerName: string | null };
  documents: Array<{ label: string; id: string; sha256: string; detail: string | null }>;
  /** How the person agreed to the conversation (the opt-in `process.started` recorded). */
  optIn: string | null;
  consent: string | null;
  otp: string | null;
  events: CertificateEvent[];
  head: string;
  checkpoint: { treeSize: number; rootHash: string; issuedAt: string; inclusionProof: string[] } | null;
  verificationUrl: string;
  /** The evidence as the API serves it, attached as `evidence.json`. */
  evidenceJson: Uint8Array;
}

// The fonts are embedded (PDF/A forbids relying on the reader's); read once, parsed per document by pdfkit.
const fontDir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONTS = {
  regular: readFileSync(join(fontDir, 'DejaVuSans.ttf')),
  bold: readFileSync(join(fontDir, 'DejaVuSans-Bold.ttf')),
  mono: readFileSync(join(fontDir, 'DejaVuSansMono.ttf')),
};

const GREY = '#555555';
const MARGIN = 48;

/**
 * A payload in one short line: its fields as `key=value`, nested values as compact JSON, phone numbers masked, cut at
 * `max` characters (the whole payload is in the attached evidence.json).
 */
export function payloadSummary(payload: Record<string, unknown>, mask: (e164: string) => string, max = 120): string {
  const text = Object.entries(payload)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
    .replace(/\+\d{8,15}\b/g, mask);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The certificate of evidence as a PDF/A-3b document (embedded fonts, XMP identification, sRGB output intent): the
 * process and who took part, its documents with their hashes, the consent and one-time-code summary, the whole
 * timeline with each event's hash, the chain head, the checkpoint that anchors it, how to verify it, and the evidence
 * JSON attached as `evidence.json` (AFRelationship Data). Sealing (PAdES) is the caller's. A function of its model
 * alone, which structured clone can copy: it runs in a worker thread (see CertificateRenderer).
 */
export async function renderCertificate(model: CertificateModel): Promise<Buffer> {
  const doc = new PDFDocument({
    pdfVersion: '1.7',
    subset: 'PDF/A-3b',
    tagged: true,
    lang: 'en',
    size: 'A4',
    margin: MARGIN,
    displayTitle: true,
    info: { Title: `Certificate of evidence — process ${model.process.id}`, Author: 'Testigo', Subject: 'Certificate of evidence', CreationDate: model.issuedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  doc.registerFont('regular', FONTS.regular);
  doc.registerFont('bold', FONTS.bold);
  doc.registerFont('mono', FONTS.mono);
  const width = doc.page.width - 2 * MARGIN;

  const heading = (text: string) => {
    doc.moveDown(0.6).font('bold').fontSize(11).fillColor('black').text(text);
    doc.moveDown(0.2);
  };
  const field = (label: string, value: string, font = 'regular') => {
    doc.font('bold').fontSize(8.5).fillColor(GREY).text(`${label}: `, { continued: true });
    doc.font(font).fillColor('black').text(value);
  };

  doc.font('bold').fontSize(18).text('Certificate of evidence');
  doc.font('regular').fontSize(9).fillColor(GREY).text(`Issued ${model.issuedAt.toISOString()} by Testigo. Every time is UTC.`);

  heading('Process');
  field('Process', model.process.id, 'mono');
  field('Status', model.process.failureReason ? `${model.process.status} (${model.process.failureReason})` : model.process.status);
  field('Started', `${model.process.startedAt} (${model.process.origin === 'outbound' ? 'by an invitation of the business' : 'by a message of the person'})`);
  field('Finished', model.process.finishedAt ?? '—');
  field('Business', `${model.tenant.name} (${model.tenant.id})`);
  field('Flow', `${model.flow.name} (${model.flow.id}, version ${model.flow.version})`);
  field('WhatsApp line', model.line ?? '—');
  field('Person', model.person.signerName ? `${model.person.signerName}, ${model.person.maskedPhone}` : model.person.maskedPhone);

  heading('Documents');
  if (model.documents.length === 0) doc.font('regular').fontSize(8.5).text('No document took part in this process.');
  for (const d of model.documents) {
    field(d.label, `${d.id}${d.detail ? ` — ${d.detail}` : ''}`);
    field('SHA-256', d.sha256, 'mono');
  }

  heading('Consent and one-time code');
  field('Opt-in', model.optIn ?? 'none recorded');
  field('Consent', model.consent ?? 'none recorded in this process');
  field('One-time code', model.otp ?? 'none in this process');

  heading(`Timeline (${model.events.length} events)`);
  doc.font('mono').fontSize(6.8).fillColor('black');
  for (const e of model.events) {
    doc.text(`${String(e.seq).padStart(3)} ${e.occurred_at} ${e.type}`, { width });
    doc.fillColor(GREY).text(`    ${payloadSummary(e.payload, maskPhone)}`, { width });
    doc.text(`    hash ${e.hash}`, { width }).fillColor('black');
  }

  heading('Integrity');
  field('Chain head', model.head, 'mono');
  if (model.checkpoint) {
    field('Checkpoint', `tree size ${model.checkpoint.treeSize}, issued ${model.checkpoint.issuedAt}`);
    field('Root hash', model.checkpoint.rootHash, 'mono');
    field('Inclusion proof', model.checkpoint.inclusionProof.length ? model.checkpoint.inclusionProof.join(' ') : '(the tree has one leaf)', 'mono');
  } else {
    field('Checkpoint', 'none covered this process yet when the certificate was issued');
  }

  heading('How to verify');
  doc
    .font('regular')
    .fontSize(8.5)
    .text(
      'This PDF is sealed with a PAdES signature; the evidence it states is attached as evidence.json. Drop this file ' +
        '(or the signed contract) on the verification page, or recompute the chain from evidence.json as docs/evidence.md ' +
        'shows: every hash is SHA-256 of the previous hash and the event’s RFC 8785 canonical JSON.',
      { width },
    );
  field('Verification', model.verificationUrl, 'mono');
  drawQr(doc, model.verificationUrl, doc.x, doc.y + 6, 84);

  // `relationship` (AFRelationship) is pdfkit's, missing from its type definitions.
  doc.file(Buffer.from(model.evidenceJson), {
    name: 'evidence.json',
    type: 'application/json',
    relationship: 'Data',
    description: 'The evidence log of the process: events, head, checkpoint and inclusion proof',
    creationDate: model.issuedAt,
    modifiedDate: model.issuedAt,
  } as PDFKit.Mixins.PDFAttachmentOptions);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}

/** A QR code drawn as vector squares (no image, nothing to embed). */
function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const cell = size / n;
  if (y + size > doc.page.height - MARGIN) {
    doc.addPage();
    y = doc.y;
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.modules.get(r, c)) doc.rect(x + c * cell, y + r * cell, cell, cell);
  doc.fill('black');
}
