import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PDF, rgb } from '@libpdf/core';

const exec = promisify(execFile);

/** Runs a verifier; resolves with its output whatever its exit code (pdfsig exits 0 even on a bad signature). */
export async function runTool(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A contract of `pages` pages, text on each (as a business would upload). */
export async function makeContract(pages: number): Promise<Uint8Array> {
  const pdf = PDF.create();
  for (let i = 1; i <= pages; i++) {
    const page = pdf.addPage({ size: 'a4' });
    page.drawText(`Contrato de servicios - cláusula ${i}`, { x: 60, y: 780, size: 16 });
    for (let l = 0; l < 40; l++)
      page.drawText(`Línea ${l + 1}: el cliente acepta las condiciones del servicio número ${i}.${l}.`, { x: 60, y: 740 - l * 16, size: 10, color: rgb(0.1, 0.1, 0.1) });
  }
  return pdf.save();
}

/** The last signature's byte range, what it covers, and its CMS (DER, without the placeholder's zero padding). */
export function lastSignature(bytes: Uint8Array): { range: number[]; signed: Buffer; cms: Buffer } {
  const text = Buffer.from(bytes).toString('latin1');
  const matches = [...text.matchAll(/\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g)];
  if (matches.length === 0) throw new Error('no /ByteRange in the PDF');
  const range = matches[matches.length - 1].slice(1, 5).map(Number);
  const buf = Buffer.from(bytes);
  const signed = Buffer.concat([buf.subarray(range[0], range[0] + range[1]), buf.subarray(range[2], range[2] + range[3])]);
  const hex = buf
    .subarray(range[0] + range[1], range[2])
    .toString('latin1')
    .replace(/[<>\s]/g, '');
  const der = Buffer.from(hex, 'hex');
  return { range, signed, cms: der.subarray(0, derLength(der)) };
}

/** The length of the DER element at the start of `der` (header included). */
function derLength(der: Buffer): number {
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return 2 + n + len;
}

/** A scratch folder with an NSS database that trusts `caPem` (for `pdfsig -nssdir`). */
export async function withVerifierDir<T>(caPem: string, fn: (dir: string, nssdir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'testigo-verify-'));
  try {
    writeFileSync(path.join(dir, 'ca.pem'), caPem);
    const nss = path.join(dir, 'nss');
    await exec('mkdir', ['-p', nss]);
    await exec('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
    await exec('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'testigo-root', '-t', 'CT,C,C', '-i', path.join(dir, 'ca.pem')]);
    return await fn(dir, `sql:${nss}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
