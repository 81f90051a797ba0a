import { createHmac, timingSafeEqual } from 'node:crypto';
import { networkError, normaliseGraphError } from './provider-error.js';

const TIMEOUT_MS = 15_000;

/** JSON request to a Graph-style API; non-2xx answers become normalised ProviderErrors. */
export async function graphRequest<T>(url: string, init: { method?: string; headers: Record<string, string>; body?: unknown }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw networkError(err);
  }
  const text = await res.text().catch(() => '');
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw normaliseGraphError(res.status, json);
  return json as T;
}

/** Raw bytes (media downloads). */
export async function binaryRequest(url: string, headers: Record<string, string>): Promise<{ data: Buffer; mimeType: string }> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  } catch (err) {
    throw networkError(err);
  }
  if (!res.ok) throw normaliseGraphError(res.status, await res.json().catch(() => null));
  return { data: Buffer.from(await res.arrayBuffer()), mimeType: res.headers.get('content-type') ?? 'application/octet-stream' };
}

/** `X-Hub-Signature-256: sha256=<hex>` over the raw body with the app secret, compared in constant time. */
export function verifyHubSignature(appSecret: string | undefined, rawBody: Buffer, header: string | undefined): boolean {
  if (!appSecret || !header?.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  const given = Buffer.from(header.slice(7), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
