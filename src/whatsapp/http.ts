import { Logger } from '@nestjs/common';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { API_MAX_BYTES, API_TOTAL_MS, MAX_REDIRECTS, MEDIA_TOTAL_MS, OutgoingHttp, OutgoingHttpError, type OutgoingResponse } from '../common/http/outgoing-http.js';
import { normaliseGraphError, ProviderError } from './provider-error.js';
import type { OutgoingFile, OutgoingMessage } from './whatsapp.types.js';

const logger = new Logger('ProviderHttp');

export interface ApiCall {
  method?: string;
  headers: Record<string, string>;
  body?: unknown;
  /** A tenant-given URL (a BSP's base URL): checked and connected through pinned resolution. */
  guarded?: boolean;
}

/**
 * JSON request to a Graph-style API; non-2xx answers become normalised ProviderErrors. Sent with undici's `request`,
 * which costs a fraction of the CPU of `fetch` per call: this is the path of every outgoing message.
 */
export async function graphRequest<T>(http: OutgoingHttp, url: string, init: ApiCall): Promise<T> {
  const res = await send(http, url, {
    method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: { ...init.headers, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    maxBytes: API_MAX_BYTES,
    totalMs: API_TOTAL_MS,
    guarded: init.guarded ?? false,
  });
  const json = parseJson(res.body);
  if (res.status < 200 || res.status >= 300) throw normaliseGraphError(res.status, json);
  return json as T;
}

/**
 * A media upload: multipart/form-data with `messaging_product=whatsapp`, `type` (the MIME type) and the `file` part, as
 * the Cloud API's `POST /{phone-number-id}/media` takes it (360dialog-style BSPs at `/media` too). Answers `{id}`. The
 * body is built whole (files are at most MEDIA_MAX_BYTES) and has the media time limit; the answer the API cap.
 */
export async function uploadMedia(http: OutgoingHttp, url: string, init: { headers: Record<string, string>; guarded: boolean }, file: OutgoingFile): Promise<string> {
  const boundary = `----testigo${randomBytes(12).toString('hex')}`;
  const name = (file.filename ?? `file.${file.kind === 'image' ? 'img' : 'bin'}`).replace(/["\r\n\\]/g, '_');
  const field = (key: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`;
  const body = Buffer.concat([
    Buffer.from(field('messaging_product', 'whatsapp') + field('type', file.mimeType)),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${file.mimeType}\r\n\r\n`),
    file.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await send(http, url, {
    method: 'POST',
    headers: { ...init.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    maxBytes: API_MAX_BYTES,
    totalMs: MEDIA_TOTAL_MS,
    guarded: init.guarded,
  });
  const json = parseJson(res.body) as { id?: unknown } | null;
  if (res.status < 200 || res.status >= 300) throw normaliseGraphError(res.status, json);
  if (typeof json?.id !== 'string' || json.id === '') throw new ProviderError('TRANSIENT', true, 'The media upload was answered without a media id');
  return json.id;
}

/** The message that sends an uploaded file by its media id. */
export function fileMessage(file: OutgoingFile, mediaId: string): OutgoingMessage {
  return { kind: 'media', mediaType: file.kind, mediaId, caption: file.caption, filename: file.kind === 'document' ? file.filename : undefined };
}

/**
 * Raw bytes (media downloads): at most `maxBytes`, 60 s in all, following up to 5 redirects, each hop checked like a
 * tenant-given URL (media URLs come from the provider's answer) and credentials kept to the first origin.
 */
export async function binaryRequest(http: OutgoingHttp, url: string, headers: Record<string, string>, maxBytes: number): Promise<{ data: Buffer; mimeType: string }> {
  const res = await send(http, url, {
    headers,
    maxBytes,
    totalMs: MEDIA_TOTAL_MS,
    guarded: true,
    redirects: MAX_REDIRECTS,
    originOnlyHeaders: Object.keys(headers),
  });
  if (res.status < 200 || res.status >= 300) throw normaliseGraphError(res.status, parseJson(res.body));
  const type = res.headers['content-type'];
  return { data: res.body, mimeType: (Array.isArray(type) ? type[0] : type) ?? 'application/octet-stream' };
}

async function send(http: OutgoingHttp, url: string, call: Parameters<OutgoingHttp['call']>[1]): Promise<OutgoingResponse> {
  try {
    return await http.call(url, call);
  } catch (err) {
    throw providerFailure(err, url);
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * A failed call as tenants may see it: what went wrong in kind, never the address, port or socket error (which would
 * make the service a port scanner of its own network). The raw error goes to the logs.
 */
export function providerFailure(err: unknown, url: string): ProviderError {
  const e = err instanceof OutgoingHttpError ? err : new OutgoingHttpError('network', String(err), { cause: err });
  logger.warn({ kind: e.kind, host: safeHost(url), err: e.message, cause: (e.cause as Error | undefined)?.message }, 'provider call failed');
  switch (e.kind) {
    case 'too_large':
      return new ProviderError('RESPONSE_TOO_LARGE', false, 'The provider answered with more data than allowed');
    case 'blocked':
      // Retried like a refused connection: the host's DNS may be fixed meanwhile.
      return new ProviderError('PROVIDER_UNREACHABLE', true, 'The provider address is not allowed');
    case 'redirects':
      return new ProviderError('PROVIDER_UNREACHABLE', false, 'The provider redirected too many times');
    case 'timeout':
      return new ProviderError('PROVIDER_UNREACHABLE', true, 'The provider did not answer in time');
    default:
      return new ProviderError('PROVIDER_UNREACHABLE', true, 'The provider could not be reached');
  }
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

/** `X-Hub-Signature-256: sha256=<hex>` over the raw body with the app secret, compared in constant time. */
export function verifyHubSignature(appSecret: string | undefined, rawBody: Buffer, header: string | undefined): boolean {
  if (!appSecret || !header?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from(header.slice(7), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
