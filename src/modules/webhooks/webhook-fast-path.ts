import { HttpStatus } from '@nestjs/common';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import type { AllExceptionsFilter } from '../../common/errors/all-exceptions.filter.js';
import { requestIdOf } from '../../common/http/request-id.js';
import { WebhooksService } from './webhooks.service.js';
import { trimTrailing } from '../../common/text/trim.js';

export const WEBHOOK_FAST_PATH = '/v1/whatsapp/webhook';
const PATH = WEBHOOK_FAST_PATH;

/**
 * Serves `POST /v1/whatsapp/webhook` (Meta's calls, thousands a second) straight from Node's HTTP server, ahead of
 * express and Nest: read the body within the size limit, parse it, and hand it to the same
 * `WebhooksService.receiveCloud` that `WebhooksController` documents. Every other request goes on to express
 * untouched. Errors are answered by the app's exception filter, in the common shape.
 */
export function installWebhookFastPath(server: Server, webhooks: WebhooksService, limit: number, errors: AllExceptionsFilter): void {
  const [app, ...others] = server.listeners('request') as RequestListener[];
  if (!app || others.length > 0) throw new Error('expected the HTTP server to have exactly one request listener (the express app)');
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isCall(req)) void handle(req, res);
    else app(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = requestIdOf(req.headers);
    res.setHeader('x-request-id', id);
    try {
      const raw = await readBody(req, limit);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'Request body is not valid JSON');
      }
      const signature = req.headers['x-hub-signature-256'];
      await webhooks.receiveCloud(raw, body, typeof signature === 'string' ? signature : undefined);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"received":true}');
    } catch (err) {
      errors.send(err, { id }, res);
    }
  }
}

/** Matched the way express routes (case-insensitive, trailing slash optional, any query), so no spelling reaches the controller. */
function isCall(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return trimTrailing(q === -1 ? url : url.slice(0, q), '/').toLowerCase() === PATH;
}

const DECODERS: Record<string, () => Transform> = { gzip: createGunzip, 'x-gzip': createGunzip, deflate: createInflate, br: createBrotliDecompress };

/**
 * The whole body, decompressed as Content-Encoding says; 413 PAYLOAD_TOO_LARGE past `limit` bytes (of the decoded
 * body; an uncompressed one is checked against Content-Length first), 415 for an unknown encoding.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new AppError(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large');
  return new Promise((resolve, reject) => {
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    const decoder = encoding === 'identity' ? null : DECODERS[encoding];
    const fail = (err: unknown) => {
      req.unpipe();
      req.resume();
      reject(err);
    };
    if (decoder === undefined) return fail(new AppError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `Unsupported Content-Encoding: ${encoding}`));
    if (!decoder && Number(req.headers['content-length'] ?? 0) > limit) return fail(tooLarge());
    const body = decoder ? req.pipe(decoder()) : req;
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      body.removeAllListeners('data');
      if (decoder) body.destroy();
      fail(tooLarge());
    });
    body.on('end', () => resolve(Buffer.concat(chunks, size)));
    // A client that goes away mid-body: nothing more will come (a decoder would wait for ever).
    req.on('close', () => {
      if (!req.complete) fail(new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'Request body was cut short'));
    });
    body.on('error', (err) => fail(decoder ? new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, `Request body is not valid ${encoding}`) : err));
  });
}
