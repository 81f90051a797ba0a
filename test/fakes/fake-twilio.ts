import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface TwilioAccount {
  sid: string;
  token: string;
}

export interface SentTwilioSms {
  accountSid: string;
  To: string;
  From?: string;
  MessagingServiceSid?: string;
  Body: string;
  sid: string;
}

/** How the next calls fail: an HTTP error (Twilio's envelope), no answer at all, or a dropped connection. */
export type TwilioFault = { status: number; code?: number; message?: string } | 'hang' | 'drop';

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * A Twilio Messages API on 127.0.0.1, as strict as the real one about the request: `POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the account's sid and token, a form body with
 * `To`, `From` or `MessagingServiceSid`, and `Body`. Answers 201 with the message resource, or Twilio's error
 * envelope `{code, message, more_info, status}` (20003 auth, 21211 invalid To, 21602/21603/21604 missing fields).
 */
export class FakeTwilio {
  readonly sent: SentTwilioSms[] = [];
  /** Every call, accepted or not: method, path, headers, raw body. */
  readonly calls: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }> = [];
  private faults: TwilioFault[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly account: TwilioAccount,
  ) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(account: TwilioAccount = { sid: `AC${randomBytes(16).toString('hex')}`, token: randomBytes(16).toString('hex') }): Promise<FakeTwilio> {
    const holder: { fake?: FakeTwilio } = {};
    const server = createServer((req, res) => void holder.fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    holder.fake = new FakeTwilio(server, `http://127.0.0.1:${port}`, account);
    return holder.fake;
  }

  /** The next calls fail this way, one fault per call, in order. */
  fail(...faults: TwilioFault[]): void {
    this.faults.push(...faults);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    this.calls.push({ method: req.method ?? '', path, headers: req.headers, body });
    const fault = this.faults.shift();
    if (fault === 'hang') return; // never answered: the caller's time limit ends it
    if (fault === 'drop') return void req.socket.destroy();
    if (fault) return error(res, fault.status, fault.code ?? fault.status * 100, fault.message ?? `Fake fault ${fault.status}`);

    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (req.method !== 'POST' || !match) return error(res, 404, 20404, 'The requested resource was not found');
    const auth = req.headers.authorization ?? '';
    const [sid, token] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .split(':');
    if (!auth.startsWith('Basic ') || sid !== this.account.sid || token !== this.account.token || match[1] !== sid) {
      return error(res, 401, 20003, 'Authenticate');
    }
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return error(res, 400, 21604, "A 'To' phone number is required.");
    const form = new URLSearchParams(body);
    const To = form.get('To') ?? '';
    const From = form.get('From') ?? undefined;
    const MessagingServiceSid = form.get('MessagingServiceSid') ?? undefined;
    const Body = form.get('Body') ?? '';
    if (!To) return error(res, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(To)) return error(res, 400, 21211, `The 'To' number ${To} is not a valid phone number.`);
    if (!From && !MessagingServiceSid) return error(res, 400, 21603, "A 'From' phone number is required.");
    if (!Body) return error(res, 400, 21602, 'Message body is required.');
    const messageSid = `SM${randomBytes(16).toString('hex')}`;
    this.sent.push({ accountSid: sid, To, From, MessagingServiceSid, Body, sid: messageSid });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        sid: messageSid,
        account_sid: sid,
        to: To,
        from: From ?? null,
        messaging_service_sid: MessagingServiceSid ?? null,
        body: Body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        date_created: new Date().toUTCString(),
        error_code: null,
        error_message: null,
        uri: `/2010-04-01/Accounts/${sid}/Messages/${messageSid}.json`,
      }),
    );
  }
}

function error(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}
