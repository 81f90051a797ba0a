import { measureText, PDF, rgb, type Standard14FontName } from '@libpdf/core';
import QRCode from 'qrcode';

export type SignaturePageLanguage = 'es' | 'en' | 'pt';

export interface SignaturePage {
  signerName: string;
  maskedPhone: string;
  signedAt: Date;
  processId: string;
  originalSha256: string;
  otp: { channel: 'sms' | 'whatsapp'; verifiedAt: Date } | null;
  verificationUrl: string;
  language: SignaturePageLanguage;
}

const LABELS: Record<SignaturePageLanguage, Record<string, string>> = {
  es: {
    title: 'Página de firma electrónica',
    intro: 'Este documento ha sido firmado electrónicamente por la persona indicada, que lo aceptó en la conversación.',
    signer: 'Firmante',
    phone: 'Teléfono',
    signedAt: 'Fecha y hora de la firma (UTC)',
    process: 'Identificador del proceso',
    sha256: 'SHA-256 del documento original',
    otp: 'Verificación con código de un solo uso',
    otpNone: 'Sin código de un solo uso',
    via: 'verificado por',
    verify: 'Verificación',
    verifyHint: 'Escanee el código QR o abra la dirección para verificar esta firma.',
  },
  en: {
    title: 'Electronic signature page',
    intro: 'This document has been electronically signed by the person named below, who accepted it in the conversation.',
    signer: 'Signer',
    phone: 'Phone',
    signedAt: 'Date and time of signature (UTC)',
    process: 'Process identifier',
    sha256: 'SHA-256 of the original document',
    otp: 'One-time code verification',
    otpNone: 'No one-time code',
    via: 'verified via',
    verify: 'Verification',
    verifyHint: 'Scan the QR code or open the address to verify this signature.',
  },
  pt: {
    title: 'Página de assinatura eletrônica',
    intro: 'Este documento foi assinado eletronicamente pela pessoa indicada, que o aceitou na conversa.',
    signer: 'Signatário',
    phone: 'Telefone',
    signedAt: 'Data e hora da assinatura (UTC)',
    process: 'Identificador do processo',
    sha256: 'SHA-256 do documento original',
    otp: 'Verificação por código de uso único',
    otpNone: 'Sem código de uso único',
    via: 'verificado por',
    verify: 'Verificação',
    verifyHint: 'Leia o código QR ou abra o endereço para verificar esta assinatura.',
  },
};
const CHANNELS = { sms: 'SMS', whatsapp: 'WhatsApp' } as const;

const REGULAR: Standard14FontName = 'Helvetica';
const BOLD: Standard14FontName = 'Helvetica-Bold';
const MONO: Standard14FontName = 'Courier';

/** The characters the standard fonts can show (WinAnsiEncoding): Latin-1 and cp1252's extras. */
const CP1252_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
function showable(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRAS.has(ch)) out += ch;
    else if (/\s/.test(ch)) out += ' ';
    else {
      // A letter the font lacks loses its accent (ł → l keeps its base only when it has one), else becomes '?'.
      const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
      out += base && [...base].every((c) => c.codePointAt(0)! < 0x7f) ? base : '?';
    }
  }
  return out;
}

/** Lines of at most `width` points: breaks at spaces, and inside a word longer than a line (hashes, URLs). */
export function wrapText(text: string, font: Standard14FontName, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => measureText(s, font, size) <= width;
  for (const word of text.split(' ')) {
    const candidate = line ? `${line} ${word}` : word;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line) lines.push(line);
    let rest = word;
    while (!fits(rest)) {
      let n = rest.length - 1;
      while (n > 1 && !fits(rest.slice(0, n))) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

const utc = (d: Date) =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');

/**
 * A copy of `pdf` with a signature page appended, of the size of its last page: who signed, when, the process, the
 * original's hash, the one-time-code check and a verification URL with its QR code. The input is never modified.
 */
export async function appendSignaturePage(pdf: Uint8Array, page: SignaturePage): Promise<Uint8Array> {
  const doc = await PDF.load(new Uint8Array(pdf));
  const last = doc.getPage(doc.getPageCount() - 1);
  const width = last?.width ?? 595.28;
  const height = last?.height ?? 841.89;
  const out = doc.addPage({ width, height });
  const t = LABELS[page.language];
  const margin = Math.max(36, Math.min(72, width * 0.09));
  const textWidth = width - 2 * margin;
  const scale = Math.min(1, width / 595.28, height / 841.89);
  const body = Math.max(7, 10 * scale);
  const grey = rgb(0.35, 0.35, 0.35);
  let y = height - margin;

  const write = (text: string, font: Standard14FontName, size: number, color = rgb(0, 0, 0), maxWidth = textWidth) => {
    for (const line of wrapText(showable(text), font, size, maxWidth)) {
      y -= size * 1.25;
      out.drawText(line, { x: margin, y, font, size, color });
    }
  };
  const field = (label: string, value: string, font: Standard14FontName = REGULAR) => {
    y -= body * 0.6;
    write(label, BOLD, body * 0.85, grey);
    write(value, font, body);
  };

  write(t.title, BOLD, body * 1.6);
  y -= body * 0.5;
  write(t.intro, REGULAR, body);
  y -= body * 0.4;
  out.drawLine({ start: { x: margin, y }, end: { x: width - margin, y }, color: grey, thickness: 0.5 });
  field(t.signer, page.signerName || '—');
  field(t.phone, page.maskedPhone);
  field(t.signedAt, utc(page.signedAt));
  field(t.process, page.processId, MONO);
  field(t.sha256, page.originalSha256, MONO);
  field(t.otp, page.otp ? `${utc(page.otp.verifiedAt)} — ${t.via} ${CHANNELS[page.otp.channel]}` : t.otpNone);
  field(t.verify, page.verificationUrl, MONO);
  write(t.verifyHint, REGULAR, body * 0.85, grey);

  // The QR code as vector squares (sharp at any zoom, a few hundred bytes), below the text when it fits.
  const qr = QRCode.create(page.verificationUrl, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const side = Math.min(120 * scale, y - margin - body);
  if (side > 40) {
    const m = side / n;
    let d = '';
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) if (qr.modules.get(r, c)) d += `M${(c * m).toFixed(3)} ${((n - 1 - r) * m).toFixed(3)}h${m.toFixed(3)}v${m.toFixed(3)}h-${m.toFixed(3)}z`;
    out.drawSvgPath(d, { x: margin, y: y - body - side, flipY: false });
  }
  return doc.save();
}
