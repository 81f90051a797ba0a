import { GiveUp } from '../common/jobs/job-outcomes.js';

/** SMS provider failures, normalised like the WhatsApp provider's: a job retries the `retryable` ones. */
export type SmsErrorCode =
  | 'RATE_LIMITED'
  /** The number cannot get SMS (Twilio 21211 invalid, 21614 not a mobile, 21610 opted out…). */
  | 'INVALID_NUMBER'
  | 'AUTH'
  | 'INVALID_REQUEST'
  | 'TRANSIENT'
  /** No answer: connection failed, timed out, or the address is not allowed. Details only in the logs. */
  | 'PROVIDER_UNREACHABLE'
  | 'RESPONSE_TOO_LARGE';

export class SmsProviderError extends Error {
  constructor(
    readonly code: SmsErrorCode,
    readonly retryable: boolean,
    message: string,
    /** The provider's own code (Twilio's `code`), when there is one. */
    readonly providerCode?: number | string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'SmsProviderError';
  }
}

/** Twilio's codes for a number that cannot be sent to: permanent for that number. */
const NUMBER_CODES = new Set([21211, 21214, 21217, 21219, 21401, 21407, 21408, 21421, 21610, 21612, 21614]);

/** Maps a Twilio REST error (`{code, message, more_info, status}`) to an SmsProviderError. */
export function normaliseTwilioError(httpStatus: number, body: unknown): SmsProviderError {
  const err = body as { code?: number; message?: string } | null;
  const code = typeof err?.code === 'number' ? err.code : undefined;
  const message = (typeof err?.message === 'string' && err.message) || `HTTP ${httpStatus}`;
  const make = (c: SmsErrorCode, retryable: boolean) => new SmsProviderError(c, retryable, message, code ?? httpStatus, httpStatus);
  if (httpStatus === 429 || code === 20429 || code === 14107) return make('RATE_LIMITED', true);
  if (httpStatus >= 500) return make('TRANSIENT', true);
  if (httpStatus === 401 || httpStatus === 403 || code === 20003) return make('AUTH', false);
  if (code !== undefined && NUMBER_CODES.has(code)) return make('INVALID_NUMBER', false);
  return make('INVALID_REQUEST', false);
}

/**
 * For a job handler (common/jobs): a permanent SMS failure gives the job up at once (GiveUp), anything else is
 * thrown back as it is, so the runner retries it with backoff.
 */
export function smsJobError(err: unknown): Error {
  if (err instanceof SmsProviderError && !err.retryable) return new GiveUp(`${err.code}: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}
