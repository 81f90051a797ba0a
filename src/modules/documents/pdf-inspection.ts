import { PDF } from '@libpdf/core';
import { invalidPdf, pdfEncrypted } from './documents.errors.js';

/** The header must open the file (readers allow up to 1 KiB of junk before it, and so do we). */
const HEADER = Buffer.from('%PDF-');
const HEADER_WITHIN = 1024;

/**
 * Proves the bytes are a PDF by parsing them with @libpdf/core and counts its pages; refuses encrypted ones (even
 * with an empty user password: their content cannot be appended to or signed as it is). Errors name `field`.
 */
export async function inspectPdf(bytes: Uint8Array, field = 'file'): Promise<{ pages: number }> {
  if (bytes.length === 0) throw invalidPdf(field, 'the file is empty');
  if (Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEADER_WITHIN + HEADER.length)).indexOf(HEADER) < 0) {
    throw invalidPdf(field, 'it does not start with a %PDF- header');
  }
  let pdf: PDF;
  try {
    pdf = await PDF.load(bytes);
  } catch (err) {
    throw invalidPdf(field, (err as Error).message || 'it could not be parsed');
  }
  if (pdf.isEncrypted) throw pdfEncrypted(field);
  let pages: number;
  try {
    pages = pdf.getPageCount();
  } catch (err) {
    throw invalidPdf(field, `its pages could not be read (${(err as Error).message})`);
  }
  if (pages < 1) throw invalidPdf(field, 'it has no pages');
  return { pages };
}
