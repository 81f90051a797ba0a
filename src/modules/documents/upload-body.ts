import busboy from 'busboy';
import type { Request, Response } from 'express';
import { AppError } from '../../common/errors/app-error.js';
import { documentTooLarge, unsupportedUpload } from './documents.errors.js';

/** Largest document accepted (the file itself; multipart framing aside). */
export const DOCUMENT_MAX_BYTES = 20 * 1_048_576;
/** Room for the multipart framing and the small fields around the file in a declared Content-Length. */
const MULTIPART_SLACK = 64 * 1024;
/** After a refusal, this much more of the body is read and dropped so the client can read the answer; then the socket closes. */
const DRAIN_MAX_BYTES = 64 * 1_048_576;

export const FILE_FIELD = 'file';

export interface Upload {
  bytes: Buffer;
  /** The part's filename (multipart), if it had one. */
  filename: string | null;
  /** The multipart `title` field, if sent. */
  title: string | null;
}

/**
 * The PDF of an upload, read from the request stream (the global body parsers leave this route alone): a multipart
 * form's `file` part (and `title` field), or an `application/pdf` body. Never holds more than `maxBytes` of file: past
 * that it answers 413 (PAYLOAD_TOO_LARGE) at once; a declared Content-Length over the limit is refused unread.
 */
export async function readUpload(req: Request, res: Response, maxBytes = DOCUMENT_MAX_BYTES): Promise<Upload> {
  const type = req.headers['content-type'];
  const multipart = !!type && req.is('multipart/form-data') === 'multipart/form-data';
  const pdf = !!type && req.is('application/pdf') === 'application/pdf';
  const declared = Number(req.headers['content-length'] ?? NaN);
  try {
    if (!multipart && !pdf) throw unsupportedUpload(FILE_FIELD, type?.split(';')[0].trim());
    if (declared > maxBytes + (multipart ? MULTIPART_SLACK : 0)) throw documentTooLarge(FILE_FIELD, maxBytes);
    return multipart ? await readMultipart(req, maxBytes) : { bytes: await readRaw(req, maxBytes), filename: null, title: null };
  } catch (err) {
    abandon(req, res);
    throw err;
  }
}

/** The rest of a refused body is read and dropped (up to DRAIN_MAX_BYTES), and the connection closed after the answer. */
function abandon(req: Request, res: Response): void {
  res.setHeader('connection', 'close');
  req.unpipe();
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_MAX_BYTES) req.destroy();
  });
  req.resume();
}

async function readRaw(req: Request, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw documentTooLarge(FILE_FIELD, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function readMultipart(req: Request, maxBytes: number): Promise<Upload> {
  return new Promise<Upload>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { files: 1, fileSize: maxBytes + 1, fields: 10, fieldSize: 8192, parts: 12 } });
    } catch (err) {
      return reject(AppError.validation(FILE_FIELD, `The multipart body cannot be read: ${(err as Error).message}`));
    }
    let failed: AppError | null = null;
    const fail = (e: AppError) => {
      if (failed) return;
      failed = e;
      req.unpipe(bb);
      reject(e);
    };
    let file: { bytes: Buffer; filename: string | null } | null = null;
    let title: string | null = null;
    bb.on('field', (name, value, info) => {
      if (name !== 'title') return fail(AppError.validation(name, `property ${name} should not exist (send file and, optionally, title)`));
      if (info.valueTruncated) return fail(AppError.validation('title', 'title must be shorter than or equal to 200 characters'));
      title = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== FILE_FIELD) {
        stream.resume();
        return fail(AppError.validation(name, `The PDF goes in the ${FILE_FIELD} part, not in ${name}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        chunks.push(chunk);
      });
      // busboy cuts a file at its limit: one byte past ours tells a file over it from one of exactly maxBytes.
      stream.on('limit', () => fail(documentTooLarge(FILE_FIELD, maxBytes)));
      stream.on('end', () => {
        if (!failed) file = { bytes: Buffer.concat(chunks, size), filename: info.filename || null };
      });
    });
    bb.on('filesLimit', () => fail(AppError.validation(FILE_FIELD, 'Send one file only')));
    bb.on('partsLimit', () => fail(AppError.validation(FILE_FIELD, 'Too many parts: send file and, optionally, title')));
    bb.on('fieldsLimit', () => fail(AppError.validation('title', 'Too many fields: send file and, optionally, title')));
    bb.on('error', (err) => fail(AppError.validation(FILE_FIELD, `The multipart body cannot be read: ${(err as Error).message}`)));
    bb.on('close', () => {
      if (failed) return;
      if (!file) return reject(AppError.validation(FILE_FIELD, `${FILE_FIELD} is required: the PDF as a file part named ${FILE_FIELD}`));
      resolve({ ...file, title });
    });
    req.on('error', (err) => fail(AppError.validation(FILE_FIELD, `The upload was cut short: ${err.message}`)));
    req.pipe(bb);
  });
}
