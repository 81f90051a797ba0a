/**
 * An in-process stand-in for Meta's Graph API (WhatsApp Cloud API) and a 360dialog-style BSP.
 * It validates requests the way Meta does (documented limits), answers with realistic bodies and
 * error envelopes, and builds signed webhook envelopes shaped like real ones.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';

export type FakeGraphMode = 'cloud_api' | 'bsp';

export interface FakeGraphOptions {
  mode: FakeGraphMode;
  /** cloud_api: the bearer token expected; when absent any non-empty bearer is accepted. */
  accessToken?: string;
  /** bsp: the D360-API-KEY expected; when absent any non-empty key is accepted. */
  apiKey?: string;
  /** Graph version expected in cloud_api paths. */
  version?: string;
  /** bsp: the WABA the API key belongs to (templates are stored under it). */
  bspWabaId?: string;
}

export interface GraphErrorSpec {
  httpStatus?: number;
  code: number;
  subcode?: number;
  message?: string;
  details?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the raw text ('' when empty). */
  body: unknown;
}

export interface SentMessage {
  /** null in bsp mode: the API key identifies the line. */
  phoneNumberId: string | null;
  to: string;
  type: string;
  body: Record<string, unknown>;
  wamid: string;
  at: number;
}

export type FakeTemplateStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';

export interface UploadedMedia {
  phoneNumberId: string | null;
  /** The media id answered. */
  id: string;
  fields: Record<string, string>;
  filename: string | null;
  mimeType: string;
  data: Buffer;
}

/** MIME types Meta accepts for uploads (images, documents, audio, video). */
const UPLOAD_TYPES = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'application/pdf',
  'text/plain',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'audio/aac',
  'audio/mp4',
  'audio/mpeg',
  'audio/ogg',
  'video/mp4',
  'video/3gpp',
]);

interface ParsedForm {
  fields: Record<string, string>;
  files: Array<{ name: string; filename: string | null; mimeType: string; data: Buffer }>;
}

/** A multipart/form-data body, parsed by busboy (as a real server would). */
function parseMultipart(headers: IncomingMessage['headers'], body: Buffer): Promise<ParsedForm> {
  return new Promise((resolve, reject) => {
    const form: ParsedForm = { fields: {}, files: [] };
    const bb = busboy({ headers, limits: { files: 5, fields: 20 } });
    bb.on('field', (name, value) => (form.fields[name] = value));
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => form.files.push({ name, filename: info.filename ?? null, mimeType: info.mimeType, data: Buffer.concat(chunks) }));
    });
    bb.on('error', reject);
    bb.on('close', () => resolve(form));
    bb.end(body);
  });
}

export interface StoredTemplate {
  id: string;
  name: string;
  language: string;
  status: FakeTemplateStatus;
  rejected_reason: string | null;
  category: string;
  waba_id: string;
  components: Array<Record<string, unknown>>;
}

/** A business phone number of the fake's WhatsApp Business Accounts (Graph's phone number node). */
export interface FakePhoneNumber {
  /** phone_number_id. */
  id: string;
  /** E.164; shown as Meta formats it (`+57 300 1230000`) unless displayPhoneNumber is given. */
  phoneNumber: string;
  displayPhoneNumber?: string;
  verifiedName?: string;
  /**
   * The token(s) of the business that owns the number (its system users): only they read the node. Unset: whatever
   * token the fake accepts (options.accessToken, or any when that is unset).
   */
  accessToken?: string | string[];
}

export interface WebhookChange {
  value: Record<string, unknown>;
  field: string;
}

export interface WebhookEnvelope {
  object: 'whatsapp_business_account';
  entry: Array<{ id: string; time?: number; changes: WebhookChange[] }>;
}

interface InboundBase {
  phoneNumberId: string;
  displayPhone: string;
  from: string;
  wamid?: string;
  timestamp?: number | string;
  profileName?: string;
  /** entry[].id; defaults to a fixed WABA id. */
  wabaId?: string;
}

type Json = Record<string, unknown>;

const DEFAULT_WABA_ID = '102290129340398';

/** A request that Meta would refuse; `details` goes to error_data.details (or error_user_msg for templates). */
class Rejection extends Error {
  constructor(
    readonly details: string,
    readonly code = 100,
    readonly subcode?: number,
    readonly title = '(#100) Invalid parameter',
  ) {
    super(details);
  }
}

const bad = (details: string): never => {
  throw new Rejection(details);
};

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Meta counts characters, not UTF-16 units. */
const chars = (s: string): number => [...s].length;

function str(v: unknown, path: string, min: number, max: number): string {
  if (typeof v !== 'string') return bad(`${path} is required and must be a string`);
  const n = chars(v);
  if (n < min || n > max) bad(`${path} length invalid. Min length: ${min}, Max length: ${max}, got ${n}`);
  return v;
}

function optStr(v: unknown, path: string, max: number): void {
  if (v !== undefined) str(v, path, 0, max);
}

function obj(v: unknown, path: string): Json {
  if (!isObj(v)) return bad(`${path} is required and must be an object`);
  return v;
}

function arr(v: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) return bad(`${path} is required and must be an array`);
  if (v.length < min || v.length > max) bad(`${path} must have ${min} to ${max} items, got ${v.length}`);
  return v;
}

function coordinate(v: unknown, path: string, limit: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > limit) bad(`${path} must be a number between -${limit} and ${limit}`);
}

function validLink(v: unknown, path: string): void {
  if (typeof v !== 'string') bad(`${path} must be a string URL`);
  let url: URL;
  try {
    url = new URL(v as string);
  } catch {
    return bad(`${path} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`${path} must be an http or https URL`);
}

/** image/video/document object: exactly one of link or id. */
function mediaObject(v: unknown, path: string, kind: string, allowCaption: boolean): void {
  const m = obj(v, path);
  const hasLink = m.link !== undefined;
  const hasId = m.id !== undefined;
  if (hasLink === hasId) bad(`${path} must have exactly one of link or id`);
  if (hasLink) validLink(m.link, `${path}.link`);
  if (hasId) str(m.id, `${path}.id`, 1, 128);
  if (m.caption !== undefined) {
    if (!allowCaption) bad(`${path}.caption is not allowed here`);
    str(m.caption, `${path}.caption`, 1, 1024);
  }
  if (m.filename !== undefined) {
    if (kind !== 'document') bad(`${path}.filename is only allowed for documents`);
    str(m.filename, `${path}.filename`, 1, 240);
  }
}

/** Positional {{n}} parameters of a template text; Meta wants them numbered 1..n. */
function templateParams(text: string, path: string): number {
  const nums = [...text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!);
  if (nums.some((n) => !/^\d+$/.test(n))) bad(`${path}: only positional {{1}}..{{n}} parameters are supported`);
  const distinct = [...new Set(nums.map(Number))].sort((a, b) => a - b);
  distinct.forEach((n, i) => {
    if (n !== i + 1) bad(`${path}: parameters must be sequential starting at {{1}}`);
  });
  return distinct.length;
}

function countParamsOf(t: StoredTemplate, type: string): number {
  const c = t.components.find((x) => String(x.type).toUpperCase() === type);
  return c && typeof c.text === 'string' ? templateParams(c.text, type) : 0;
}

/** Meta's limit on a one-time code (body parameter and copy-code button parameter). */
const AUTH_CODE_MAX = 15;

/**
 * Checks an AUTHENTICATION template's components as Meta does (no text of one's own: Meta writes it; an OTP button),
 * and returns them as Meta stores them: the preset text filled in, the OTP button turned into a URL button.
 */
function authenticationComponents(components: Json[]): Json[] {
  const byType = (type: string) => components.filter((c) => String(c.type).toUpperCase() === type);
  if (byType('HEADER').length) bad('AUTHENTICATION templates cannot have a HEADER');
  const bodies = byType('BODY');
  if (bodies.length !== 1) bad(`components must contain exactly one BODY, got ${bodies.length}`);
  const body = bodies[0]!;
  if (body.text !== undefined || body.example !== undefined) bad('AUTHENTICATION templates cannot set a body text: Meta provides it');
  if (body.add_security_recommendation !== undefined && typeof body.add_security_recommendation !== 'boolean') bad('BODY.add_security_recommendation must be a boolean');
  const footers = byType('FOOTER');
  if (footers.length > 1) bad('components may contain at most one FOOTER');
  const footer = footers[0];
  if (footer) {
    if (footer.text !== undefined) bad('AUTHENTICATION templates cannot set a footer text: use code_expiration_minutes');
    const m = footer.code_expiration_minutes;
    if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 90)) bad('FOOTER.code_expiration_minutes must be an integer from 1 to 90');
  }
  const buttonsComps = byType('BUTTONS');
  if (buttonsComps.length !== 1) bad('AUTHENTICATION templates need one BUTTONS component with an OTP button');
  const [raw] = arr(buttonsComps[0]!.buttons, 'BUTTONS.buttons', 1, 1);
  const btn = obj(raw, 'BUTTONS.buttons[0]');
  if (String(btn.type).toUpperCase() !== 'OTP') bad('BUTTONS.buttons[0].type must be OTP');
  const otpType = String(btn.otp_type).toUpperCase();
  if (otpType !== 'COPY_CODE' && otpType !== 'ONE_TAP' && otpType !== 'ZERO_TAP') bad('BUTTONS.buttons[0].otp_type must be COPY_CODE, ONE_TAP or ZERO_TAP');
  if (otpType !== 'COPY_CODE' && !Array.isArray(btn.supported_apps)) bad(`BUTTONS.buttons[0]: otp_type ${otpType} requires supported_apps (package_name, signature_hash)`);
  if (btn.text !== undefined) str(btn.text, 'BUTTONS.buttons[0].text', 1, 25);
  const minutes = footer?.code_expiration_minutes as number | undefined;
  return [
    {
      type: 'BODY',
      text: `*{{1}}* is your verification code.${body.add_security_recommendation ? ' For your security, do not share this code.' : ''}`,
      add_security_recommendation: body.add_security_recommendation ?? false,
    },
    ...(minutes !== undefined ? [{ type: 'FOOTER', text: `This code expires in ${minutes} minutes.`, code_expiration_minutes: minutes }] : []),
    {
      type: 'BUTTONS',
      buttons: [{ type: 'URL', text: (btn.text as string | undefined) ?? 'Copy code', url: `https://www.whatsapp.com/otp/code/?otp_type=${otpType}&code=otp{{1}}` }],
    },
  ];
}

function unixNow(): string {
  return String(Math.floor(Date.now() / 1000));
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex').toUpperCase();
}

/**
 * Real wamids are base64 of a small protobuf-like record: the counterpart's number and a random id
 * (outbound: 18 hex chars, inbound: 32). Built the same way so parsers see realistic values.
 */
function makeWamid(phone: string, inbound: boolean): string {
  const digits = Buffer.from(phone, 'ascii');
  const id = Buffer.from(inbound ? hex(16) : hex(9), 'ascii');
  const head = Buffer.from([0x1c, 0x18, digits.length]);
  const mid = Buffer.from([0x15, 0x02, 0x00, inbound ? 0x12 : 0x11, 0x18, id.length]);
  return 'wamid.' + Buffer.concat([head, digits, mid, id, Buffer.from([0x00])]).toString('base64');
}

function fbtraceId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

/** Business-scoped user ids as they now appear next to wa_id in webhooks; stable per number. */
function userIds(waId: string): { user_id: string; parent_user_id: string } {
  const digits = (seed: string) =>
    BigInt('0x' + createHash('sha256').update(seed).digest('hex').slice(0, 16))
      .toString()
      .padStart(20, '1')
      .slice(0, 20);
  return { user_id: `US.${digits('u' + waId)}`, parent_user_id: `US.ENT.${digits('p' + waId)}` };
}

export class FakeGraph {
  readonly requests: RecordedRequest[] = [];
  readonly sent: SentMessage[] = [];
  /** Media uploaded through `POST /{phone-number-id}/media` (BSP: `/media`), in order. */
  readonly uploads: UploadedMedia[] = [];
  /** Called for every accepted message send (benchmarks time prompts with it). */
  onSent: ((m: SentMessage) => void) | null = null;
  readonly templates = new Map<string, StoredTemplate>();

  private readonly media = new Map<string, { data: Buffer; mimeType: string }>();
  private readonly phoneNumbers = new Map<string, FakePhoneNumber>();
  /** Media URLs answer with a redirect to the file (as a CDN may), which downloads must follow. */
  redirectMediaDownloads = false;
  /** Where `/media-redirect/{id}` sends the download (default: this fake's `/media-download/{id}`). */
  mediaRedirectTarget: ((id: string) => string) | null = null;
  /** Origin put in media URLs instead of this fake's own (e.g. a host name a test resolver maps). */
  mediaOrigin: string | null = null;
  /** Spaces put before every JSON answer (a bloated but valid answer, with its content-length). */
  answerPadding = 0;
  /** Every request is answered 200 with this many bytes, streamed as the reader takes them (no content-length). */
  streamedAnswerBytes = 0;
  /** What the last streamed answer managed to write, and whether its reader hung up before the end. */
  readonly streamed = { bytes: 0, closedEarly: false };
  private readonly version: string;
  private server!: Server;
  private port = 0;
  private failQueue: { remaining: number; error: GraphErrorSpec } | null = null;
  private readonly failRecipients = new Map<string, GraphErrorSpec>();
  private readonly repeatedWamids = new Map<string, string>();
  private latencyMs = 0;
  private templateSeq = 0;
  private stormSpec: StormSpec | null = null;
  /** When each send request arrived (ms since the epoch), answered or not: what a provider's rate limit counts. */
  readonly sendArrivals: number[] = [];
  /** Send requests the storm failed, by kind. */
  readonly stormed = { rate_limited: 0, server_error: 0, timeout: 0 };

  private constructor(private readonly options: FakeGraphOptions) {
    this.version = options.version ?? 'v23.0';
  }

  static async start(options: FakeGraphOptions): Promise<FakeGraph> {
    const fake = new FakeGraph(options);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): FakeGraphMode {
    return this.options.mode;
  }

  async close(): Promise<void> {
    // fetch keeps connections alive; without this close() would wait for them to idle out.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- controls -------------------------------------------------------------------------------

  /** A number the fake serves (kept across reset(): lines registered against it stay valid). */
  addPhoneNumber(n: FakePhoneNumber): void {
    this.phoneNumbers.set(n.id, n);
  }

  addMedia(id: string, data: Buffer, mimeType: string): void {
    this.media.set(id, { data, mimeType });
  }

  /** The next n message sends (valid ones) answer with this Graph error. */
  failNext(n: number, error: GraphErrorSpec): void {
    this.failQueue = n > 0 ? { remaining: n, error } : null;
  }

  /**
   * A provider storm: until storm(null), each send fails with probability `fraction`, a third each as 429 (code
   * 130429), 500 (code 2) and a timeout (no answer for `hangMs`, then the connection is cut; the message is not
   * sent). `random` makes it reproducible.
   */
  storm(spec: StormSpec | null): void {
    this.stormSpec = spec;
  }

  /** Every send to this recipient fails until clearFailures(). */
  failFor(to: string, error: GraphErrorSpec): void {
    this.failRecipients.set(to, error);
  }

  clearFailures(): void {
    this.failQueue = null;
    this.failRecipients.clear();
  }

  /**
   * Every send from this phone number id (cloud_api; `null`: bsp) answers with the same message id, as a faulty
   * provider might; `null` as the id ends it.
   */
  repeatWamid(phoneNumberId: string | null, wamid: string | null): void {
    if (wamid === null) this.repeatedWamids.delete(String(phoneNumberId));
    else this.repeatedWamids.set(String(phoneNumberId), wamid);
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  setTemplateStatus(id: string, status: FakeTemplateStatus, reason?: string): void {
    const t = this.templates.get(id);
    if (!t) throw new Error(`FakeGraph: no template ${id}`);
    t.status = status;
    t.rejected_reason = reason ?? (status === 'REJECTED' ? 'INVALID_FORMAT' : null);
  }

  /** Stores a template directly (e.g. one created outside the service), already in the given status. */
  seedTemplate(t: Omit<StoredTemplate, 'id' | 'rejected_reason' | 'waba_id'> & { waba_id?: string }): StoredTemplate {
    const stored: StoredTemplate = { ...t, id: this.nextTemplateId(), rejected_reason: null, waba_id: t.waba_id ?? this.bspWaba() };
    this.templates.set(stored.id, stored);
    return stored;
  }

  findTemplate(name: string, language: string): StoredTemplate | undefined {
    return [...this.templates.values()].find((t) => t.name === name && t.language === language);
  }

  sentTo(to: string): SentMessage[] {
    return this.sent.filter((m) => m.to === to);
  }

  /** The one-time codes sent to `to` in copy-code templates, oldest first (what the user got: the button's parameter). */
  authCodesSentTo(to: string): string[] {
    return this.sentTo(to).flatMap((m) => {
      if (m.type !== 'template') return [];
      const template = m.body.template as Json;
      const stored = this.findTemplate(template.name as string, (template.language as Json).code as string);
      if (stored?.category !== 'AUTHENTICATION') return [];
      const button = ((template.components as Json[] | undefined) ?? []).find((c) => c.type === 'button' && c.sub_type === 'url');
      return button ? [(button.parameters as Json[])[0]!.text as string] : [];
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.sent.length = 0;
    this.uploads.length = 0;
    this.templates.clear();
    this.media.clear();
    this.clearFailures();
    this.repeatedWamids.clear();
    this.latencyMs = 0;
    this.redirectMediaDownloads = false;
    this.mediaRedirectTarget = null;
    this.mediaOrigin = null;
    this.answerPadding = 0;
    this.streamedAnswerBytes = 0;
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBytes = Buffer.concat(chunks);
    const multipart = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
    const raw = multipart ? '' : rawBytes.toString('utf8');
    let parsed: unknown = multipart ? rawBytes : raw;
    let jsonError = false;
    if (raw.length > 0) {
      try {
        parsed = JSON.parse(raw);
      } catch {
        jsonError = true;
      }
    }
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname + url.search, headers: req.headers, body: parsed });
    if (this.streamedAnswerBytes > 0) return this.streamAnswer(res, this.streamedAnswerBytes);
    const redirect = /^\/media-redirect\/([^/]+)$/.exec(url.pathname);
    if (redirect && method === 'GET') {
      res.writeHead(302, { location: this.mediaRedirectTarget?.(redirect[1]!) ?? `/media-download/${redirect[1]}`, 'content-length': 0 }).end();
      return;
    }
    try {
      if (jsonError && method === 'POST') throw new Rejection('request body is not valid JSON');
      const out = this.options.mode === 'cloud_api' ? await this.routeCloud(method, url, req, parsed) : await this.routeBsp(method, url, req, parsed);
      if (Buffer.isBuffer(out.body)) {
        res.writeHead(out.status, { 'content-type': out.contentType ?? 'application/octet-stream', 'content-length': out.body.length });
        res.end(out.body);
      } else {
        this.json(res, out.status, out.body);
      }
    } catch (e) {
      if (e instanceof Hang) {
        setTimeout(() => res.destroy(), e.ms).unref();
        return;
      }
      if (e instanceof Rejection) {
        this.json(res, 400, this.rejectionBody(e, url.pathname.endsWith('/message_templates') || url.pathname === '/v1/configs/templates'));
      } else {
        this.json(res, 500, FakeGraph.graphError({ code: 1, message: `An unknown error occurred (fake: ${String(e)})` }));
      }
    }
  }

  /** `total` bytes in 64 kB chunks, each written once the previous one drained: a reader that stops stops the writing. */
  private streamAnswer(res: ServerResponse, total: number): void {
    this.streamed.bytes = 0;
    this.streamed.closedEarly = false;
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(65_536, 0x20);
    res.on('close', () => {
      if (this.streamed.bytes < total) this.streamed.closedEarly = true;
    });
    const pump = () => {
      while (this.streamed.bytes < total && !res.destroyed) {
        this.streamed.bytes += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = ' '.repeat(this.answerPadding) + JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Graph's error envelope, as the messages endpoint returns it. */
  static graphError(e: GraphErrorSpec): { error: Json } {
    return {
      error: {
        message: e.message ?? `(#${e.code}) ${e.code === 130429 ? 'Rate limit hit' : 'Invalid parameter'}`,
        type: 'OAuthException',
        code: e.code,
        ...(e.subcode !== undefined ? { error_subcode: e.subcode } : {}),
        error_data: { messaging_product: 'whatsapp', details: e.details ?? e.message ?? 'Request failed' },
        fbtrace_id: fbtraceId(),
      },
    };
  }

  /** Template-management errors carry the explanation in error_user_title/error_user_msg, not error_data. */
  private rejectionBody(e: Rejection, template: boolean): unknown {
    if (!template) return FakeGraph.graphError({ code: e.code, subcode: e.subcode, message: e.title, details: e.details });
    return {
      error: {
        message: 'Invalid parameter',
        type: 'OAuthException',
        code: e.code,
        ...(e.subcode !== undefined ? { error_subcode: e.subcode } : {}),
        is_transient: false,
        error_user_title: e.subcode === 2388024 ? 'Message template already exists' : 'Invalid template',
        error_user_msg: e.details,
        fbtrace_id: fbtraceId(),
      },
    };
  }

  private authError(): { status: number; body: unknown } {
    return {
      status: 401,
      body: {
        error: {
          message: 'Error validating access token: The session is invalid because the user logged out.',
          type: 'OAuthException',
          code: 190,
          fbtrace_id: fbtraceId(),
        },
      },
    };
  }

  private bearer(req: IncomingMessage): string | null {
    return /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
  }

  /** A token Meta knows: the fake's own, or the token of the business owning one of its numbers. */
  private bearerOk(req: IncomingMessage): boolean {
    const token = this.bearer(req);
    if (token === null) return false;
    if (this.options.accessToken === undefined || token === this.options.accessToken) return true;
    return [...this.phoneNumbers.values()].some((n) => FakeGraph.owns(n, token));
  }

  private static owns(n: FakePhoneNumber, token: string | null): boolean {
    return token !== null && n.accessToken !== undefined && [n.accessToken].flat().includes(token);
  }

  private apiKeyOk(req: IncomingMessage): boolean {
    const key = req.headers['d360-api-key'];
    return typeof key === 'string' && key.length > 0 && (this.options.apiKey === undefined || key === this.options.apiKey);
  }

  private bspWaba(): string {
    return this.options.bspWabaId ?? DEFAULT_WABA_ID;
  }

  private async routeCloud(method: string, url: URL, req: IncomingMessage, body: unknown): Promise<Reply> {
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'media-download' && parts.length === 2 && method === 'GET') {
      if (!this.bearerOk(req)) return this.authError();
      return this.download(parts[1]!);
    }
    if (parts[0] !== this.version) {
      return { status: 400, body: FakeGraph.graphError({ code: 2500, message: `Unknown path components: ${url.pathname} (fake expects version ${this.version})` }) };
    }
    if (!this.bearerOk(req)) return this.authError();
    if (method === 'POST' && parts.length === 3 && parts[2] === 'messages') return this.sendMessage(parts[1]!, body);
    if (method === 'POST' && parts.length === 3 && parts[2] === 'media') return this.upload(parts[1]!, req, body);
    if (method === 'POST' && parts.length === 3 && parts[2] === 'message_templates') return this.createTemplate(parts[1]!, body, 'cloud');
    if (method === 'GET' && parts.length === 3 && parts[2] === 'message_templates') {
      // Meta's list of a WABA's templates, filtered by `name` when given.
      const name = url.searchParams.get('name');
      const data = [...this.templates.values()].filter((t) => t.waba_id === parts[1] && (!name || t.name === name)).map((t) => this.templateView(t, null));
      return { status: 200, body: { data, paging: { cursors: { before: 'MAZDZD', after: 'MjQZD' } } } };
    }
    if (method === 'GET' && parts.length === 2) {
      const id = parts[1]!;
      const t = this.templates.get(id);
      if (t) return { status: 200, body: this.templateView(t, url.searchParams.get('fields')) };
      if (this.media.has(id)) return { status: 200, body: this.mediaInfo(id) };
      const number = this.phoneNumbers.get(id);
      // A valid token of another business sees no such object: Meta answers as for a missing one.
      if (number && (number.accessToken === undefined || FakeGraph.owns(number, this.bearer(req)))) {
        return { status: 200, body: this.phoneNumberView(number, url.searchParams.get('fields')) };
      }
      return this.missingObject(id, 'get');
    }
    return { status: 400, body: FakeGraph.graphError({ code: 2500, message: `Unknown path components: ${url.pathname}` }) };
  }

  private async routeBsp(method: string, url: URL, req: IncomingMessage, body: unknown): Promise<Reply> {
    const path = url.pathname;
    const parts = path.split('/').filter(Boolean);
    // 360dialog answers a missing/wrong key with its own envelope, not a Graph error.
    if (!this.apiKeyOk(req)) return { status: 401, body: { meta: { success: false, http_code: 401, developer_message: 'Invalid api key' } } };
    if (method === 'POST' && path === '/messages') return this.sendMessage(null, body);
    if (method === 'POST' && path === '/media') return this.upload(null, req, body);
    if (method === 'POST' && path === '/v1/configs/templates') return this.createTemplate(this.bspWaba(), body, 'bsp');
    if (method === 'GET' && path === '/v1/configs/templates') {
      const list = [...this.templates.values()].map((t) => ({ ...this.templateView(t, null), components: t.components, namespace: 'fake_namespace' }));
      return { status: 200, body: { count: list.length, filters: {}, limit: 1000, offset: 0, sort: ['id'], total: list.length, waba_templates: list } };
    }
    if (method === 'GET' && parts[0] === 'media-download' && parts.length === 2) return this.download(parts[1]!);
    if (method === 'GET' && parts.length === 1) {
      return this.media.has(parts[0]!) ? { status: 200, body: this.mediaInfo(parts[0]!) } : this.missingObject(parts[0]!, 'get');
    }
    return { status: 404, body: { meta: { success: false, http_code: 404, developer_message: `Unknown path ${path}` } } };
  }

  private missingObject(id: string, verb: string): Reply {
    return {
      status: 400,
      body: FakeGraph.graphError({
        code: 100,
        subcode: 33,
        message: `Unsupported ${verb} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      }),
    };
  }

  /** Graph's phone number node; `fields` picks fields (id always included), as Graph does. */
  private phoneNumberView(n: FakePhoneNumber, fields: string | null): Json {
    const full: Json = {
      verified_name: n.verifiedName ?? 'Fake Business',
      code_verification_status: 'VERIFIED',
      display_phone_number: n.displayPhoneNumber ?? FakeGraph.displayFormat(n.phoneNumber),
      quality_rating: 'GREEN',
      platform_type: 'CLOUD_API',
      throughput: { level: 'STANDARD' },
      id: n.id,
    };
    if (!fields) return full;
    const wanted = new Set(fields.split(',').map((f) => f.trim()));
    return Object.fromEntries(Object.entries(full).filter(([k]) => k === 'id' || wanted.has(k)));
  }

  /** Meta shows numbers spaced, country code first (`+57 300 1230000`, `+1 415 5550100`). */
  static displayFormat(e164: string): string {
    const d = e164.replace(/\D/g, '');
    return `+${d.slice(0, -10)} ${d.slice(-10, -7)} ${d.slice(-7)}`;
  }

  private mediaInfo(id: string): Json {
    const m = this.media.get(id)!;
    return {
      messaging_product: 'whatsapp',
      url: `${this.mediaOrigin ?? this.baseUrl}/${this.redirectMediaDownloads ? 'media-redirect' : 'media-download'}/${id}`,
      mime_type: m.mimeType,
      sha256: createHash('sha256').update(m.data).digest('hex'),
      file_size: m.data.length,
      id,
    };
  }

  private download(id: string): Reply {
    const m = this.media.get(id);
    if (!m) return { status: 404, body: { error: { message: 'Media not found', code: 100 } } };
    return { status: 200, body: m.data, contentType: m.mimeType };
  }

  private templateView(t: StoredTemplate, fields: string | null): Json {
    const full: Json = {
      id: t.id,
      name: t.name,
      language: t.language,
      status: t.status,
      category: t.category,
      ...(t.rejected_reason ? { rejected_reason: t.rejected_reason } : {}),
    };
    if (!fields) return full;
    const wanted = new Set(fields.split(',').map((f) => f.trim()));
    const all: Json = { ...full, components: t.components, rejected_reason: t.rejected_reason ?? 'NONE' };
    return Object.fromEntries(Object.entries(all).filter(([k]) => k === 'id' || wanted.has(k)));
  }

  // ---- media uploads --------------------------------------------------------------------------

  /**
   * `POST /{phone-number-id}/media` (360dialog: `POST /media`), multipart/form-data as Meta documents it: fields
   * `messaging_product=whatsapp` and `type` (the MIME type), and the `file` part. The body is parsed for real; a missing
   * or wrong field is refused with Graph's error envelope. The file is kept: its id can be downloaded and sent.
   */
  private async upload(phoneNumberId: string | null, req: IncomingMessage, body: unknown): Promise<Reply> {
    const refuse = (code: number, message: string, details: string): Reply => ({ status: 400, body: FakeGraph.graphError({ code, message, details }) });
    if (!/^multipart\/form-data;\s*boundary=/i.test(req.headers['content-type'] ?? '')) {
      return refuse(100, '(#100) Invalid parameter', 'media uploads must be multipart/form-data with a boundary');
    }
    let form: ParsedForm;
    try {
      form = await parseMultipart(req.headers, body as Buffer);
    } catch (err) {
      return refuse(100, '(#100) Invalid parameter', `malformed multipart body: ${(err as Error).message}`);
    }
    if (form.fields.messaging_product !== 'whatsapp') return refuse(100, '(#100) The parameter messaging_product is required.', "messaging_product must be 'whatsapp'");
    if (form.files.length !== 1 || form.files[0]!.name !== 'file') return refuse(100, '(#100) The parameter file is required.', 'exactly one file part named file');
    const file = form.files[0]!;
    const type = form.fields.type;
    if (!type || !UPLOAD_TYPES.has(type)) return refuse(131053, '(#131053) Media upload error', `type ${JSON.stringify(type)} is not a supported MIME type`);
    if (file.mimeType !== type) return refuse(131053, '(#131053) Media upload error', `type ${type} does not match the file's Content-Type ${file.mimeType}`);
    if (file.data.length === 0) return refuse(131053, '(#131053) Media upload error', 'the file is empty');
    const id = String(1_000_000_000_000_000 + this.uploads.length + 1);
    this.uploads.push({ phoneNumberId, id, fields: form.fields, filename: file.filename, mimeType: file.mimeType, data: file.data });
    this.media.set(id, { data: file.data, mimeType: type });
    return { status: 200, body: { id } };
  }

  // ---- messages -------------------------------------------------------------------------------

  private async sendMessage(phoneNumberId: string | null, body: unknown): Promise<Reply> {
    this.sendArrivals.push(Date.now());
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const msg = obj(body, 'request body');
    const type = this.validateMessage(msg);
    this.checkTemplateUsable(msg, type);
    const to = msg.to as string;
    if (this.stormSpec) {
      const { fraction, hangMs, random } = this.stormSpec;
      const r = random();
      if (r < fraction / 3) {
        this.stormed.rate_limited++;
        return { status: 429, body: FakeGraph.graphError({ httpStatus: 429, code: 130429 }) };
      }
      if (r < (2 * fraction) / 3) {
        this.stormed.server_error++;
        return { status: 500, body: FakeGraph.graphError({ code: 2, message: 'Service temporarily unavailable' }) };
      }
      if (r < fraction) {
        this.stormed.timeout++;
        throw new Hang(hangMs);
      }
    }
    const injected = this.failRecipients.get(to) ?? this.takeFailure();
    if (injected) return { status: injected.httpStatus ?? 400, body: FakeGraph.graphError(injected) };
    const wamid = this.repeatedWamids.get(String(phoneNumberId)) ?? makeWamid(to, false);
    this.sent.push({ phoneNumberId, to, type, body: msg, wamid, at: Date.now() });
    this.onSent?.(this.sent[this.sent.length - 1]);
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to }],
        messages: [type === 'template' ? { id: wamid, message_status: 'accepted' } : { id: wamid }],
      },
    };
  }

  private takeFailure(): GraphErrorSpec | null {
    if (!this.failQueue) return null;
    const { error } = this.failQueue;
    if (--this.failQueue.remaining <= 0) this.failQueue = null;
    return error;
  }

  /** Returns the message type; throws Rejection naming the first problem. */
  private validateMessage(b: Json): string {
    if (b.messaging_product !== 'whatsapp') bad("messaging_product must be 'whatsapp'");
    if (b.recipient_type !== undefined && b.recipient_type !== 'individual') bad("recipient_type must be 'individual'");
    if (typeof b.to !== 'string' || !/^\d{6,15}$/.test(b.to)) bad(`to must be the recipient's number, digits only (6-15), got ${JSON.stringify(b.to)}`);
    if (b.context !== undefined) str(obj(b.context, 'context').message_id, 'context.message_id', 1, 256);
    // Meta defaults a missing type to text.
    const type = (b.type ?? 'text') as string;
    switch (type) {
      case 'text': {
        const t = obj(b.text, 'text');
        str(t.body, 'text.body', 1, 4096);
        if (t.preview_url !== undefined && typeof t.preview_url !== 'boolean') bad('text.preview_url must be a boolean');
        break;
      }
      case 'interactive':
        this.validateInteractive(obj(b.interactive, 'interactive'));
        break;
      case 'image':
      case 'video':
      case 'document':
        mediaObject(b[type], type, type, true);
        break;
      case 'location': {
        const l = obj(b.location, 'location');
        coordinate(l.latitude, 'location.latitude', 90);
        coordinate(l.longitude, 'location.longitude', 180);
        optStr(l.name, 'location.name', 1000);
        optStr(l.address, 'location.address', 1000);
        break;
      }
      case 'template':
        this.validateTemplateSend(obj(b.template, 'template'));
        break;
      default:
        bad(`type must be one of text, interactive, image, video, document, location, template; got ${JSON.stringify(type)}`);
    }
    return type;
  }

  private validateInteractive(it: Json): void {
    const kind = it.type;
    if (kind !== 'button' && kind !== 'list') return bad(`interactive.type must be 'button' or 'list', got ${JSON.stringify(kind)}`);
    str(obj(it.body, 'interactive.body').text, 'interactive.body.text', 1, kind === 'button' ? 1024 : 4096);
    if (it.footer !== undefined) str(obj(it.footer, 'interactive.footer').text, 'interactive.footer.text', 1, 60);
    if (it.header !== undefined) {
      const h = obj(it.header, 'interactive.header');
      if (h.type === 'text') str(h.text, 'interactive.header.text', 1, 60);
      else if (kind === 'button' && (h.type === 'image' || h.type === 'video' || h.type === 'document')) mediaObject(h[h.type], `interactive.header.${h.type}`, h.type, false);
      else bad(`interactive.header.type ${JSON.stringify(h.type)} is not allowed for ${kind} messages`);
    }
    const action = obj(it.action, 'interactive.action');
    if (kind === 'button') {
      const buttons = arr(action.buttons, 'interactive.action.buttons', 1, 3);
      const ids = new Set<string>();
      const titles = new Set<string>();
      buttons.forEach((raw, i) => {
        const p = `interactive.action.buttons[${i}]`;
        const btn = obj(raw, p);
        if (btn.type !== 'reply') bad(`${p}.type must be 'reply'`);
        const reply = obj(btn.reply, `${p}.reply`);
        const id = str(reply.id, `${p}.reply.id`, 1, 256);
        const title = str(reply.title, `${p}.reply.title`, 1, 20);
        if (ids.has(id)) bad(`interactive.action.buttons: duplicate button id ${JSON.stringify(id)}`);
        if (titles.has(title)) bad(`interactive.action.buttons: duplicate button title ${JSON.stringify(title)}`);
        ids.add(id);
        titles.add(title);
      });
      return;
    }
    str(action.button, 'interactive.action.button', 1, 20);
    const sections = arr(action.sections, 'interactive.action.sections', 1, 10);
    const rowIds = new Set<string>();
    let total = 0;
    sections.forEach((raw, s) => {
      const p = `interactive.action.sections[${s}]`;
      const sec = obj(raw, p);
      if (sec.title !== undefined || sections.length > 1) str(sec.title, `${p}.title`, 1, 24);
      const rows = arr(sec.rows, `${p}.rows`, 1, 10);
      total += rows.length;
      rows.forEach((r, i) => {
        const rp = `${p}.rows[${i}]`;
        const row = obj(r, rp);
        const id = str(row.id, `${rp}.id`, 1, 200);
        str(row.title, `${rp}.title`, 1, 24);
        optStr(row.description, `${rp}.description`, 72);
        if (rowIds.has(id)) bad(`interactive.action.sections: duplicate row id ${JSON.stringify(id)}`);
        rowIds.add(id);
      });
    });
    if (total > 10) bad(`interactive.action.sections: at most 10 rows in total, got ${total}`);
  }

  private validateTemplateSend(t: Json): void {
    str(t.name, 'template.name', 1, 512);
    str(obj(t.language, 'template.language').code, 'template.language.code', 2, 15);
    if (t.components === undefined) return;
    const comps = arr(t.components, 'template.components', 0, 20);
    const seen = new Set<string>();
    comps.forEach((raw, i) => {
      const p = `template.components[${i}]`;
      const c = obj(raw, p);
      const type = String(c.type).toLowerCase();
      if (type === 'body' || type === 'header') {
        if (seen.has(type)) bad(`template.components: more than one ${type} component`);
        seen.add(type);
      }
      if (type === 'body') {
        const params = arr(c.parameters, `${p}.parameters`, 1, 100);
        params.forEach((pr, j) => {
          const param = obj(pr, `${p}.parameters[${j}]`);
          if (param.type !== 'text') bad(`${p}.parameters[${j}].type must be 'text'`);
          const text = str(param.text, `${p}.parameters[${j}].text`, 1, 32768);
          if (/[\n\t]| {5,}/.test(text)) bad('Param text cannot have new-line/tab characters or more than 4 consecutive spaces');
        });
      } else if (type === 'header') {
        const [param] = arr(c.parameters, `${p}.parameters`, 1, 1);
        const pp = `${p}.parameters[0]`;
        const h = obj(param, pp);
        if (h.type === 'image' || h.type === 'video' || h.type === 'document') mediaObject(h[h.type], `${pp}.${h.type}`, h.type, false);
        else if (h.type === 'location') {
          const l = obj(h.location, `${pp}.location`);
          coordinate(l.latitude, `${pp}.location.latitude`, 90);
          coordinate(l.longitude, `${pp}.location.longitude`, 180);
          optStr(l.name, `${pp}.location.name`, 1000);
          optStr(l.address, `${pp}.location.address`, 1000);
        } else if (h.type === 'text') str(h.text, `${pp}.text`, 1, 60);
        else bad(`${pp}.type must be image, video, document, location or text`);
      } else if (type === 'button') {
        if (c.sub_type !== 'quick_reply' && c.sub_type !== 'url') bad(`${p}.sub_type must be 'quick_reply' or 'url' (the button kinds this fake supports)`);
        const index = typeof c.index === 'number' ? String(c.index) : c.index;
        if (typeof index !== 'string' || !/^[0-9]$/.test(index)) bad(`${p}.index must be '0'..'9'`);
        const key = `button:${index as string}`;
        if (seen.has(key)) bad(`template.components: two button components with index ${index as string}`);
        seen.add(key);
        const [param] = arr(c.parameters, `${p}.parameters`, 1, 1);
        const pl = obj(param, `${p}.parameters[0]`);
        if (c.sub_type === 'url') {
          // The dynamic suffix of a URL button (for a copy-code button: the code itself).
          if (pl.type !== 'text') bad(`${p}.parameters[0].type must be 'text' for a url button`);
          str(pl.text, `${p}.parameters[0].text`, 1, 2000);
        } else {
          if (pl.type !== 'payload') bad(`${p}.parameters[0].type must be 'payload'`);
          str(pl.payload, `${p}.parameters[0].payload`, 1, 128);
        }
      } else {
        bad(`${p}.type must be body, header or button`);
      }
    });
  }

  /** Only templates this fake knows about are checked; unknown names are accepted as-is. */
  private checkTemplateUsable(msg: Json, type: string): void {
    if (type !== 'template') return;
    const t = msg.template as Json;
    const stored = this.findTemplate(t.name as string, (t.language as Json).code as string);
    if (!stored) return;
    if (stored.status === 'PAUSED') throw new Rejection(`Template ${stored.name} is paused`, 132015, undefined, '(#132015) Template is Paused');
    if (stored.status === 'DISABLED') throw new Rejection(`Template ${stored.name} is disabled`, 132016, undefined, '(#132016) Template is disabled');
    if (stored.status !== 'APPROVED') {
      throw new Rejection(`template name (${stored.name}) does not exist in ${stored.language}`, 132001, undefined, '(#132001) Template name does not exist in the translation');
    }
    const comps: Json[] = ((t.components as Json[] | undefined) ?? []).map((c) => ({ ...c, type: String(c.type).toLowerCase() }));
    const mismatch = (what: string, got: number, want: number): never =>
      throw132000(`${what}: number of localizable_params (${got}) does not match the expected number of params (${want})`);
    const bodyGot = (comps.find((c) => c.type === 'body')?.parameters as unknown[] | undefined)?.length ?? 0;
    const bodyWant = countParamsOf(stored, 'BODY');
    if (bodyGot !== bodyWant) mismatch('body', bodyGot, bodyWant);
    const header = stored.components.find((c) => String(c.type).toUpperCase() === 'HEADER');
    const format = header ? String(header.format).toUpperCase() : null;
    const sentHeader = comps.find((c) => c.type === 'header');
    const sentHeaderType = sentHeader ? String((sentHeader.parameters as Json[])[0]!.type).toUpperCase() : null;
    if (format && format !== 'TEXT' && sentHeaderType !== format) {
      throw132000(`header: expected a ${format} parameter, got ${sentHeaderType ?? 'none'}`);
    }
    if (!format && sentHeader) throw132000('header: template has no header');
    const buttons = (stored.components.find((c) => String(c.type).toUpperCase() === 'BUTTONS')?.buttons as Json[] | undefined) ?? [];
    const quickReplies = buttons.length;
    for (const c of comps.filter((x) => x.type === 'button')) {
      if (Number(c.index) >= quickReplies) throw132000(`button: index ${String(c.index)} but the template has ${quickReplies} quick replies`);
      const kind = String(buttons[Number(c.index)]!.type).toLowerCase();
      if (kind !== c.sub_type) throw132000(`button ${String(c.index)}: sub_type ${String(c.sub_type)} but the template's button ${String(c.index)} is ${kind}`);
    }
    if (stored.category === 'AUTHENTICATION') this.checkAuthenticationSend(comps);
  }

  /**
   * A copy-code template's send: the code as the body's one parameter and as the URL parameter of button 0 (the button
   * copies it), at most 15 characters.
   */
  private checkAuthenticationSend(comps: Json[]): void {
    const bodyCode = ((comps.find((c) => c.type === 'body')?.parameters as Json[] | undefined) ?? [])[0]?.text;
    const button = comps.find((c) => c.type === 'button' && c.sub_type === 'url' && String(c.index) === '0');
    if (!button) throw new Rejection('button: the copy-code button (url, index 0) needs its parameter, the code', 131008, undefined, '(#131008) Required parameter is missing');
    const buttonCode = (button.parameters as Json[])[0]!.text as string;
    for (const [where, code] of [
      ['body', bodyCode],
      ['button', buttonCode],
    ] as const) {
      if (typeof code !== 'string' || chars(code) > AUTH_CODE_MAX) {
        throw new Rejection(`${where}: the one-time code must be at most ${AUTH_CODE_MAX} characters`, 131009, undefined, '(#131009) Parameter value is not valid');
      }
    }
  }

  // ---- templates ------------------------------------------------------------------------------

  private nextTemplateId(): string {
    // Numeric, 16 digits like Meta's, and below 2^53 because webhooks send it as a JSON number.
    return String(1_689_556_908_129_832 + ++this.templateSeq * 7919);
  }

  private createTemplate(wabaId: string, body: unknown, flavour: 'cloud' | 'bsp'): Reply {
    const t = obj(body, 'request body');
    const name = typeof t.name === 'string' ? t.name : '';
    if (!/^[a-z0-9_]{1,512}$/.test(name)) bad('name must be 1-512 lowercase letters, digits or underscores');
    const language = str(t.language, 'language', 2, 15);
    const category = t.category;
    if (category !== 'UTILITY' && category !== 'MARKETING' && category !== 'AUTHENTICATION') bad('category must be UTILITY, MARKETING or AUTHENTICATION');
    const components = arr(t.components, 'components', 1, 10).map((c, i) => obj(c, `components[${i}]`));
    const byType = (type: string) => components.filter((c) => String(c.type).toUpperCase() === type);
    for (const c of components) {
      if (!['BODY', 'HEADER', 'FOOTER', 'BUTTONS'].includes(String(c.type).toUpperCase())) bad(`components: unknown component type ${JSON.stringify(c.type)}`);
    }
    if (category === 'AUTHENTICATION') return this.storeTemplate(wabaId, name, language, category, authenticationComponents(components), flavour);

    const bodies = byType('BODY');
    if (bodies.length !== 1) bad(`components must contain exactly one BODY, got ${bodies.length}`);
    const b = bodies[0]!;
    const text = str(b.text, 'BODY.text', 1, 1024);
    const n = templateParams(text, 'BODY.text');
    if (n > 0) {
      if (/^\s*\{\{\s*\d+\s*\}\}/.test(text) || /\{\{\s*\d+\s*\}\}\s*$/.test(text)) {
        throw new Rejection("Leading or trailing params not allowed: variables can't be at the start or end of the template.", 100, 2388299);
      }
      if (b.example === undefined) bad(`BODY has ${n} parameter(s) but no example.body_text`);
      const rows = obj(b.example, 'BODY.example').body_text;
      if (!Array.isArray(rows) || rows.length !== 1 || !Array.isArray(rows[0])) bad('BODY.example.body_text must be an array holding one array of sample values');
      const values = (rows as unknown[][])[0]!;
      if (values.length !== n || values.some((v) => typeof v !== 'string' || v.length === 0)) {
        bad(`BODY.example.body_text[0] must have ${n} non-empty string(s), one per parameter, got ${values.length}`);
      }
    } else if (b.example !== undefined) {
      bad('BODY.example is only allowed when the text has parameters');
    }

    const headers = byType('HEADER');
    if (headers.length > 1) bad('components may contain at most one HEADER');
    if (headers[0]) {
      const h = headers[0];
      const format = String(h.format).toUpperCase();
      if (format === 'IMAGE' || format === 'VIDEO' || format === 'DOCUMENT') {
        const handles = isObj(h.example) ? h.example.header_handle : undefined;
        if (!Array.isArray(handles) || handles.length !== 1 || typeof handles[0] !== 'string' || handles[0].length === 0) {
          bad(`HEADER with format ${format} requires example.header_handle: [<uploaded media handle>]`);
        }
      } else if (format === 'TEXT') {
        const ht = str(h.text, 'HEADER.text', 1, 60);
        const hp = templateParams(ht, 'HEADER.text');
        if (hp > 1) bad('HEADER.text may have at most one parameter');
        if (hp === 1) {
          const ex = isObj(h.example) ? h.example.header_text : undefined;
          if (!Array.isArray(ex) || ex.length !== 1 || typeof ex[0] !== 'string') bad('HEADER with a parameter requires example.header_text: [<value>]');
        }
      } else if (format !== 'LOCATION') {
        bad('HEADER.format must be TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION');
      }
    }

    const footers = byType('FOOTER');
    if (footers.length > 1) bad('components may contain at most one FOOTER');
    if (footers[0]) str(footers[0].text, 'FOOTER.text', 1, 60);

    const buttonsComps = byType('BUTTONS');
    if (buttonsComps.length > 1) bad('components may contain at most one BUTTONS');
    if (buttonsComps[0]) {
      const buttons = arr(buttonsComps[0].buttons, 'BUTTONS.buttons', 1, 3);
      const texts = new Set<string>();
      buttons.forEach((raw, i) => {
        const btn = obj(raw, `BUTTONS.buttons[${i}]`);
        if (btn.type !== 'QUICK_REPLY') bad(`BUTTONS.buttons[${i}].type must be QUICK_REPLY`);
        const bt = str(btn.text, `BUTTONS.buttons[${i}].text`, 1, 25);
        if (texts.has(bt)) bad(`BUTTONS.buttons: duplicate text ${JSON.stringify(bt)}`);
        texts.add(bt);
      });
    }

    return this.storeTemplate(wabaId, name, language, category as string, components, flavour);
  }

  private storeTemplate(wabaId: string, name: string, language: string, category: string, components: Json[], flavour: 'cloud' | 'bsp'): Reply {
    const dup = [...this.templates.values()].find((x) => x.waba_id === wabaId && x.name === name && x.language === language);
    if (dup) throw new Rejection(`There is already ${language} content for this template (${name}). You can create a new template and try again.`, 100, 2388024);

    const stored: StoredTemplate = {
      id: this.nextTemplateId(),
      name,
      language,
      status: 'PENDING',
      rejected_reason: null,
      category,
      waba_id: wabaId,
      components: components.map((c) => structuredClone(c)),
    };
    this.templates.set(stored.id, stored);
    const answer =
      flavour === 'cloud'
        ? { id: stored.id, status: stored.status, category: stored.category }
        : { id: stored.id, status: stored.status, name, language, category: stored.category };
    return { status: 200, body: answer };
  }

  // ---- webhooks -------------------------------------------------------------------------------

  /** The X-Hub-Signature-256 value Meta sends: HMAC-SHA256 of the raw body with the app secret. */
  static signBody(appSecret: string, raw: string): string {
    return 'sha256=' + createHmac('sha256', appSecret).update(raw, 'utf8').digest('hex');
  }

  /** Posts like Meta's webhook sender; a string body is sent byte for byte. */
  static async postWebhook(url: string, body: object | string, appSecret?: string): Promise<{ status: number; body: string }> {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'facebookexternalua' };
    if (appSecret !== undefined) headers['x-hub-signature-256'] = FakeGraph.signBody(appSecret, raw);
    const res = await fetch(url, { method: 'POST', headers, body: raw });
    return { status: res.status, body: await res.text() };
  }

  static newInboundWamid(from: string): string {
    return makeWamid(from, true);
  }

  private static messageEnvelope(o: InboundBase, message: Json): WebhookEnvelope {
    const ts = o.timestamp === undefined ? unixNow() : String(o.timestamp);
    return FakeGraph.messagesChange(o, o.from, { messages: [{ ...message, from: o.from, id: o.wamid ?? makeWamid(o.from, true), timestamp: ts }] });
  }

  /** A `messages` change for one user (the contact), with `value` fields such as messages or statuses. */
  private static messagesChange(o: { wabaId?: string; displayPhone: string; phoneNumberId: string; profileName?: string }, user: string, value: Json): WebhookEnvelope {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: o.wabaId ?? DEFAULT_WABA_ID,
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: o.displayPhone, phone_number_id: o.phoneNumberId },
                contacts: [{ profile: { name: o.profileName ?? 'Test User' }, wa_id: user, ...userIds(user) }],
                ...value,
              },
              field: 'messages',
            },
          ],
        },
      ],
    };
  }

  static textMessage(o: InboundBase & { text: string; contextWamid?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      ...(o.contextWamid ? { context: { from: o.displayPhone, id: o.contextWamid } } : {}),
      type: 'text',
      text: { body: o.text },
    });
  }

  /** Interactive replies always quote the message they answer; a context id is made up when not given. */
  static buttonReply(o: InboundBase & { id: string; title: string; contextWamid?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      context: { from: o.displayPhone, id: o.contextWamid ?? makeWamid(o.from, false) },
      type: 'interactive',
      interactive: { type: 'button_reply', button_reply: { id: o.id, title: o.title } },
    });
  }

  static listReply(o: InboundBase & { id: string; title: string; description?: string; contextWamid?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      context: { from: o.displayPhone, id: o.contextWamid ?? makeWamid(o.from, false) },
      type: 'interactive',
      interactive: { type: 'list_reply', list_reply: { id: o.id, title: o.title, ...(o.description !== undefined ? { description: o.description } : {}) } },
    });
  }

  /** A tapped template quick reply arrives as type 'button' (not 'interactive'), with the payload. */
  static templateQuickReply(o: InboundBase & { payload: string; text: string; contextWamid?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      ...(o.contextWamid ? { context: { from: o.displayPhone, id: o.contextWamid } } : {}),
      type: 'button',
      button: { payload: o.payload, text: o.text },
    });
  }

  /** Webhook sha256 is base64 (unlike the hex of GET /{media_id}); derived from the id when not given. */
  static imageMessage(o: InboundBase & { mediaId: string; mimeType: string; sha256?: string; caption?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      type: 'image',
      image: {
        ...(o.caption !== undefined ? { caption: o.caption } : {}),
        mime_type: o.mimeType,
        sha256: o.sha256 ?? createHash('sha256').update(o.mediaId).digest('base64'),
        id: o.mediaId,
      },
    });
  }

  static documentMessage(o: InboundBase & { mediaId: string; filename: string; mimeType: string; sha256?: string; caption?: string }): WebhookEnvelope {
    return FakeGraph.messageEnvelope(o, {
      type: 'document',
      document: {
        ...(o.caption !== undefined ? { caption: o.caption } : {}),
        filename: o.filename,
        mime_type: o.mimeType,
        sha256: o.sha256 ?? createHash('sha256').update(o.mediaId).digest('base64'),
        id: o.mediaId,
      },
    });
  }

  static statusUpdate(o: {
    phoneNumberId: string;
    displayPhone: string;
    wamid: string;
    recipient: string;
    status: 'sent' | 'delivered' | 'read' | 'failed';
    timestamp?: number | string;
    error?: { code: number; title: string; details?: string };
    wabaId?: string;
    profileName?: string;
  }): WebhookEnvelope {
    const ts = o.timestamp === undefined ? unixNow() : String(o.timestamp);
    const status: Json = { id: o.wamid, status: o.status, timestamp: ts, recipient_id: o.recipient };
    if (o.status === 'failed') {
      const e = o.error ?? { code: 131026, title: 'Message undeliverable' };
      status.errors = [
        {
          code: e.code,
          title: e.title,
          message: e.title,
          error_data: { details: e.details ?? e.title },
          href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
        },
      ];
    } else {
      const convId = createHash('md5').update(o.recipient).digest('hex').slice(0, 30);
      status.conversation = {
        id: convId,
        ...(o.status === 'sent' ? { expiration_timestamp: String(Number(ts) + 86400) } : {}),
        origin: { type: 'service' },
      };
      status.pricing = { billable: true, pricing_model: 'CBP', category: 'service' };
    }
    return FakeGraph.messagesChange(o, o.recipient, { statuses: [status] });
  }

  /** Note: message_template_id and entry time are JSON numbers here, as Meta sends them. */
  static templateStatusUpdate(o: {
    wabaId: string;
    templateId: string;
    name: string;
    language: string;
    event: 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED';
    reason?: string;
    category?: string;
  }): WebhookEnvelope {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: o.wabaId,
          time: Math.floor(Date.now() / 1000),
          changes: [
            {
              value: {
                event: o.event,
                message_template_id: Number(o.templateId),
                message_template_name: o.name,
                message_template_language: o.language,
                reason: o.reason ?? (o.event === 'REJECTED' ? 'INVALID_FORMAT' : 'NONE'),
                message_template_category: o.category ?? 'UTILITY',
              },
              field: 'message_template_status_update',
            },
          ],
        },
      ],
    };
  }

  /** Several envelopes as one delivery: changes for the same WABA share an entry, as Meta batches them. */
  static batch(...envelopes: WebhookEnvelope[]): WebhookEnvelope {
    const out: WebhookEnvelope = { object: 'whatsapp_business_account', entry: [] };
    for (const env of envelopes) {
      for (const e of structuredClone(env.entry)) {
        const same = out.entry.find((x) => x.id === e.id);
        if (same) same.changes.push(...e.changes);
        else out.entry.push(e);
      }
    }
    return out;
  }
}

export interface StormSpec {
  /** Share of sends that fail (0–1). */
  fraction: number;
  /** How long a timed-out send is held before its connection is cut. */
  hangMs: number;
  random: () => number;
}

/** A send the storm never answers. */
class Hang {
  constructor(readonly ms: number) {}
}

interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
}

function throw132000(details: string): never {
  throw new Rejection(details, 132000, undefined, '(#132000) Number of parameters does not match the expected number of params');
}
