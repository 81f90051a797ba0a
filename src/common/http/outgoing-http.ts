import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { AppConfig } from '../../config/app-config.js';
import { checkOutgoingUrl, HostResolver, isPrivateAddress } from './url-guard.js';

/** Largest answer read from an API (Graph, BSP, hook receivers): their JSON is a few kB. */
export const API_MAX_BYTES = 1_048_576;
/** Whole-call limit of an API call: connecting (10 s), the headers (15 s) and the body. */
export const API_TOTAL_MS = 30_000;
export const MEDIA_TOTAL_MS = 60_000;
export const MAX_REDIRECTS = 5;
const HEADERS_TIMEOUT_MS = 15_000;
const SWEEP_MS = 250;

export type OutgoingFailure = 'too_large' | 'timeout' | 'blocked' | 'redirects' | 'network';

/** Why an outgoing call failed. `message` may name addresses and ports: it is for the logs, never for tenants. */
export class OutgoingHttpError extends Error {
  constructor(
    readonly kind: OutgoingFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutgoingHttpError';
  }
}

export interface OutgoingCall {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Most bytes of the answer body kept; a longer answer is cut off and its connection closed. */
  maxBytes: number;
  /** Limit of the whole call, redirects included. */
  totalMs: number;
  /**
   * A tenant-given URL: checked (https, no private address literal) at every hop, and connected through the guarded
   * agent, which resolves the host once and connects only to addresses it checked.
   */
  guarded: boolean;
  /** Redirects to follow (each hop checked again); 0 answers a 3xx as it is. */
  redirects?: number;
  /** Header names dropped when a redirect leaves the origin (credentials). */
  originOnlyHeaders?: string[];
}

export interface OutgoingResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Whole-call deadlines without a timer per call: one sweep aborts the calls past their deadline. The Graph API path
 * makes thousands of calls a second, where a timer each costs measurable CPU.
 */
const running = new Set<{ at: number; controller: AbortController }>();
let sweeper: NodeJS.Timeout | null = null;

function sweep(): void {
  const now = Date.now();
  for (const call of running) {
    if (call.at > now) continue;
    running.delete(call);
    call.controller.abort(new OutgoingHttpError('timeout', 'the call took longer than its time limit'));
  }
  if (running.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

function deadline(totalMs: number): { at: number; controller: AbortController } {
  const call = { at: Date.now() + totalMs, controller: new AbortController() };
  running.add(call);
  if (!sweeper) {
    sweeper = setInterval(sweep, SWEEP_MS);
    sweeper.unref();
  }
  return call;
}

/** Reads a body to the end, never holding more than `maxBytes`: past it the stream (and its connection) is destroyed. */
export async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, declaredLength?: string | string[]): Promise<Buffer> {
  const declared = Number(Array.isArray(declaredLength) ? declaredLength[0] : declaredLength);
  if (declared > maxBytes) {
    discard(body);
    throw new OutgoingHttpError('too_large', `the answer declares ${declared} bytes, more than the ${maxBytes} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      discard(body);
      throw new OutgoingHttpError('too_large', `the answer is larger than the ${maxBytes} bytes allowed`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

/** Stops reading and closes the connection; the abort this raises on the stream has nowhere to go. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for sockets to tenant-given hosts: resolves once, refuses the host when any of its addresses is private,
 * and hands the socket exactly the addresses it checked, so a second answer (DNS rebinding) is never asked for.
 */
export function pinnedLookup(resolver: HostResolver, allowLocal: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolver.resolve(hostname).then(
      (found) => {
        const bad = allowLocal ? undefined : found.find(isPrivateAddress);
        if (bad) return callback(Object.assign(new OutgoingHttpError('blocked', `${hostname} resolves to ${bad}, a private address`), { code: 'EBLOCKED' }), []);
        const wanted = options?.family;
        const family = wanted === 'IPv4' ? 4 : wanted === 'IPv6' ? 6 : wanted;
        const usable = found.filter((a) => isIP(a) !== 0 && (!family || isIP(a) === family));
        if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} has no usable address`), { code: 'ENOTFOUND' }), []);
        if (options?.all)
          return callback(
            null,
            usable.map((address) => ({ address, family: isIP(address) })),
          );
        callback(null, usable[0], isIP(usable[0]));
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}

/**
 * Every outgoing HTTP call's transport: npm undici agents of our own (never the global dispatcher, which Node's
 * built-in fetch may own with another undici version), a byte cap enforced while streaming, a whole-call time limit,
 * and for tenant-given URLs the per-hop URL check and pinned resolution.
 */
@Injectable()
export class OutgoingHttp implements OnApplicationShutdown {
  /** Operator-configured hosts (the Graph API): plain pooled connections. */
  private readonly trusted = new Agent();
  /** Tenant-given hosts: every new connection resolves and checks its host first. */
  private readonly guardedAgent: Agent;
  private readonly allowLocal: boolean;

  constructor(config: AppConfig, resolver: HostResolver) {
    this.allowLocal = config.allowLocalUrls;
    this.guardedAgent = new Agent({ connect: { lookup: pinnedLookup(resolver, this.allowLocal) } });
  }

  /** The guarded agent itself, for callers that stream the answer themselves (hook deliveries read an excerpt). */
  get guarded(): Dispatcher {
    return this.guardedAgent;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.trusted.close(), this.guardedAgent.close()]);
  }

  /** The URL rule of tenant-given URLs, applied at request time and at every redirect hop; null when acceptable. */
  refusal(url: string): string | null {
    return checkOutgoingUrl(url, this.allowLocal);
  }

  /** One call, its answer read whole (at most `maxBytes`). Throws OutgoingHttpError; a non-2xx status is an answer. */
  async call(url: string, call: OutgoingCall): Promise<OutgoingResponse> {
    const limit = deadline(call.totalMs);
    let headers = call.headers ?? {};
    let current = url;
    try {
      for (let hop = 0; ; hop++) {
        if (call.guarded) {
          const refused = this.refusal(current);
          if (refused) throw new OutgoingHttpError('blocked', `${refused}: ${current}`);
        }
        const res = await request(current, {
          method: call.method ?? 'GET',
          headers,
          body: call.body,
          dispatcher: call.guarded ? this.guardedAgent : this.trusted,
          signal: limit.controller.signal,
          headersTimeout: Math.min(HEADERS_TIMEOUT_MS, call.totalMs),
          bodyTimeout: Math.min(HEADERS_TIMEOUT_MS, call.totalMs),
        });
        const location = res.headers.location;
        if (res.statusCode >= 300 && res.statusCode < 400 && location && (call.redirects ?? 0) > 0) {
          // A redirect's own body is small (or nothing): read it so the connection stays reusable, up to a little.
          await res.body.dump({ limit: 16_384 }).catch(() => undefined);
          if (hop >= (call.redirects ?? 0)) throw new OutgoingHttpError('redirects', `more than ${call.redirects} redirects`);
          const next = new URL(Array.isArray(location) ? location[0] : location, current);
          // Credentials stay with the origin they were given for.
          if (next.origin !== new URL(current).origin && call.originOnlyHeaders?.length) {
            const drop = new Set(call.originOnlyHeaders.map((h) => h.toLowerCase()));
            headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !drop.has(k.toLowerCase())));
          }
          current = next.href;
          continue;
        }
        const body = await readCapped(res.body, call.maxBytes, res.headers['content-length']);
        return { status: res.statusCode, headers: res.headers, body };
      }
    } catch (err) {
      if (limit.controller.signal.aborted) throw new OutgoingHttpError('timeout', `no complete answer within ${call.totalMs} ms`, { cause: err });
      throw asOutgoingError(err);
    } finally {
      running.delete(limit);
    }
  }
}

/** The cause chain's OutgoingHttpError (a refused lookup arrives wrapped by the socket), else a network failure. */
function asOutgoingError(err: unknown): OutgoingHttpError {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof OutgoingHttpError) return e;
  }
  const e = err as Error & { code?: string };
  const name = (e as { name?: string })?.name;
  if (name === 'HeadersTimeoutError' || name === 'BodyTimeoutError' || name === 'ConnectTimeoutError' || e?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new OutgoingHttpError('timeout', `${name}: ${e.message}`, { cause: err });
  }
  return new OutgoingHttpError('network', err instanceof Error ? `${e.code ?? e.name}: ${e.message}` : String(err), { cause: err });
}
