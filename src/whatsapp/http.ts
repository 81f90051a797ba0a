import { createHmac, timingSafeEqual } from 'node:crypto';
import { getGlobalDispatcher, interceptors, request, type Dispatcher } from 'undici';
import { networkError, normaliseGraphError } from './provider-error.js';

const TIMEOUT_MS = 15_000;

/**
 * JSON request to a Graph-style API; non-2xx answers become normalised ProviderErrors. Sent with undici's `request`,
 * which costs a fraction of the CPU of `fetch` per call: this is the path of every outgoing message.
 */
export async function graphRequest<T>(url: string, init: { method?: string; headers: Record<string, string>; body?: unknown }): Promise<T> {
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: { ...init.headers, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      // 15 s to the answer's headers and at most 15 s between body chunks (a timer per call would cost more CPU).
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    status = res.statusCode;
    text = await res.body.text().catch(() => '');
  } catch (err) {
    throw networkError(err);
  }
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (status < 200 || status >= 300) throw normaliseGraphError(status, json);
  return json as T;
}

/** Media URLs may redirect (to a CDN); API calls never do. */
let redirecting: Dispatcher | null = null;
const followingRedirects = () => (redirecting ??= getGlobalDispatcher().compose(interceptors.redirect({ maxRedirections: 5 })));

/** Raw bytes (media downloads), following up to 5 redirects. */
export async function binaryRequest(url: string, headers: Record<string, string>): Promise<{ data: Buffer; mimeType: string }> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { headers, signal: AbortSignal.timeout(60_000), dispatcher: followingRedirects() });
  } catch (err) {
    throw networkError(err);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw normaliseGraphError(res.statusCode, await res.body.json().catch(() => null));
  try {
    const type = res.headers['content-type'];
    return { data: Buffer.from(await res.body.arrayBuffer()), mimeType: (Array.isArray(type) ? type[0] : type) ?? 'application/octet-stream' };
  } catch (err) {
    throw networkError(err);
  }
}

/** `X-Hub-Signature-256: sha256=<hex>` over the raw body with the app secret, compared in constant time. */
export function verifyHubSignature(appSecret: string | undefined, rawBody: Buffer, header: string | undefined): boolean {
  if (!appSecret || !header?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from(header.slice(7), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
