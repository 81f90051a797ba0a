import { Injectable, Logger } from '@nestjs/common';
import { API_MAX_BYTES, OutgoingHttp, OutgoingHttpError } from '../../common/http/outgoing-http.js';
import { trimTrailing } from '../../common/text/trim.js';
import { normaliseTwilioError, SmsProviderError } from '../sms-error.js';
import type { SmsProvider } from '../sms-provider.port.js';
import { DEFAULT_TWILIO_BASE_URL, TWILIO_MESSAGING_SERVICE_SID, type SentSms, type SmsMessage, type SmsSettings } from '../sms.types.js';

/** An SMS is one short call: 15 s in all, then it is retried by its job. */
export const SMS_TOTAL_MS = 15_000;

const logger = new Logger('TwilioSms');

/**
 * Twilio's Messages API (and APIs compatible with it): `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, a form
 * with `To`, `From` (or `MessagingServiceSid`) and `Body`, HTTP Basic auth `sid:token`. Answers 201 with the message's
 * `sid`. The base URL is the tenant's: checked and connected like every tenant-given URL.
 */
@Injectable()
export class TwilioSmsAdapter implements SmsProvider {
  /** Whole-call limit (tests shorten it rather than wait). */
  totalMs = SMS_TOTAL_MS;

  constructor(private readonly http: OutgoingHttp) {}

  async send(settings: SmsSettings, message: SmsMessage): Promise<SentSms> {
    if (settings.provider !== 'twilio') throw new SmsProviderError('INVALID_REQUEST', false, `Not Twilio settings: ${settings.provider}`);
    const base = trimTrailing(settings.base_url ?? DEFAULT_TWILIO_BASE_URL, '/');
    const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(settings.account_sid)}/Messages.json`;
    const form = new URLSearchParams({ To: message.to });
    form.set(TWILIO_MESSAGING_SERVICE_SID.test(settings.from) ? 'MessagingServiceSid' : 'From', settings.from);
    form.set('Body', message.body);
    let res;
    try {
      res = await this.http.call(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${settings.account_sid}:${settings.auth_token}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        maxBytes: API_MAX_BYTES,
        totalMs: this.totalMs,
        guarded: true,
      });
    } catch (err) {
      throw unreachable(err, url);
    }
    const json = parseJson(res.body);
    if (res.status < 200 || res.status >= 300) throw normaliseTwilioError(res.status, json);
    const sid = (json as { sid?: unknown } | null)?.sid;
    if (typeof sid !== 'string' || sid === '') throw new SmsProviderError('TRANSIENT', true, 'The SMS provider answered without a message sid');
    return { providerMessageId: sid };
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return body.length ? JSON.parse(body.toString('utf8')) : null;
  } catch {
    return null;
  }
}

/** A failed call in kind only (never the address or socket error, which go to the logs). */
function unreachable(err: unknown, url: string): SmsProviderError {
  const e = err instanceof OutgoingHttpError ? err : new OutgoingHttpError('network', String(err), { cause: err });
  let host = 'invalid URL';
  try {
    host = new URL(url).host;
  } catch {
    // keeps the placeholder
  }
  logger.warn({ kind: e.kind, host, err: e.message }, 'SMS provider call failed');
  switch (e.kind) {
    case 'too_large':
      return new SmsProviderError('RESPONSE_TOO_LARGE', false, 'The SMS provider answered with more data than allowed');
    case 'redirects':
      return new SmsProviderError('PROVIDER_UNREACHABLE', false, 'The SMS provider redirected too many times');
    case 'timeout':
      return new SmsProviderError('PROVIDER_UNREACHABLE', true, 'The SMS provider did not answer in time');
    case 'blocked':
      return new SmsProviderError('PROVIDER_UNREACHABLE', true, 'The SMS provider address is not allowed');
    default:
      return new SmsProviderError('PROVIDER_UNREACHABLE', true, 'The SMS provider could not be reached');
  }
}
