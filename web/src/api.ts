import createClient from 'openapi-fetch';
import type { components, paths } from './generated/openapi';
import { authHeaders } from './session';

export type Schemas = components['schemas'];
export type ErrorBody = Schemas['ErrorResponseDto'];

/** The public API, typed from the committed openapi.json: a change the console does not follow breaks its build. */
export const api = createClient<paths>({ baseUrl: location.origin });
api.use({
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders())) request.headers.set(name, value);
    return request;
  },
});

/** An API error as the service words it (`{statusCode, code, message, details?}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Array<{ field: string; messages: string[] }> = [],
  ) {
    super(message);
  }
}

/** The data of an openapi-fetch answer, or its error thrown as an ApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The service could not be reached (${(err as Error).message})`);
  }
  if (result.response.ok) return result.data as T;
  const body = (result.error ?? {}) as Partial<ErrorBody> & { details?: Array<{ field: string; messages: string[] }> };
  throw new ApiError(result.response.status, body.code ?? `HTTP_${result.response.status}`, body.message ?? result.response.statusText, body.details ?? []);
}

/** A binary the API serves (QR codes, media, documents) as an object URL: the key travels in a header, never in the URL. */
export async function blobUrl(path: string): Promise<string> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, `${path} answered ${res.status}`);
  return URL.createObjectURL(await res.blob());
}

/** Whether the API answers 200 for `path` (features that may not be there yet). */
export async function exists(path: string): Promise<boolean> {
  const res = await fetch(path, { method: 'HEAD', headers: authHeaders() }).catch(() => null);
  return res?.status === 200;
}

export interface StreamEvent {
  type: string;
  data: string;
}

/**
 * Server-Sent Events over fetch (EventSource cannot send the API key header). Reconnects after a second when the
 * stream ends; `stop` ends it for good.
 */
export function eventStream(path: string, onEvent: (e: StreamEvent) => void, onState: (open: boolean) => void): () => void {
  let stopped = false;
  let controller = new AbortController();
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(path, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const chunk = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: StreamEvent = { type: 'message', data: '' };
            for (const line of chunk.split('\n')) {
              if (line.startsWith('event:')) event.type = line.slice(6).trim();
              else if (line.startsWith('data:')) event.data += line.slice(5).trim();
            }
            onEvent(event);
          }
        }
      } catch {
        // reconnect below
      }
      onState(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}
