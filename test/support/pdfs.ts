import { PDF } from '@libpdf/core';
import { createHash } from 'node:crypto';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A real PDF of `pages` empty pages. */
export async function makePdf(pages = 1): Promise<Buffer> {
  const pdf = PDF.create();
  for (let i = 0; i < pages; i++) pdf.addPage({});
  return Buffer.from(await pdf.save());
}

/** The same, encrypted: with a password to open it, or (no `userPassword`) only an owner password. */
export async function encryptedPdf(userPassword?: string): Promise<Buffer> {
  const pdf = await PDF.load(await makePdf(1));
  pdf.setProtection({ userPassword, ownerPassword: 'owner-secret' });
  return Buffer.from(await pdf.save());
}

/** A contract of `pages` A4 pages with a few lines of text on each, as a client would upload it. */
export async function contractPdf(pages: number, title = 'Contrato de seguro de hogar'): Promise<Uint8Array> {
  const pdf = PDF.create();
  for (let n = 1; n <= pages; n++) {
    const page = pdf.addPage({ size: 'a4' });
    page.drawText(`${title} — página ${n} de ${pages}`, { x: 50, y: 780, size: 16 });
    for (let line = 0; line < 30; line++) {
      page.drawText(`Cláusula ${n}.${line + 1}: el asegurado y la aseguradora acuerdan las condiciones de esta póliza.`, { x: 50, y: 740 - line * 22, size: 10 });
    }
  }
  return pdf.save();
}
