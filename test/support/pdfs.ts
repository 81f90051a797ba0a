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
