/** Provider failures, normalised: the caller decides about retries from `retryable` and `code`. */
export type ProviderErrorCode =
  | 'RATE_LIMITED'
  | 'PAIR_RATE_LIMITED'
  | 'OUTSIDE_WINDOW'
  | 'UNDELIVERABLE'
  | 'MARKETING_OPTED_OUT'
  | 'TEMPLATE_PROBLEM'
  | 'AUTH'
  | 'INVALID_REQUEST'
  | 'TRANSIENT'
  /** No answer: connection failed, timed out, or the address is not allowed. Details only in the logs. */
  | 'PROVIDER_UNREACHABLE'
  /** The answer was cut off at its byte cap (1 MB for API calls, MEDIA_MAX_BYTES for media). */
  | 'RESPONSE_TOO_LARGE';

export class ProviderError extends Error {
  constructor(
    readonly code: ProviderErrorCode,
    readonly retryable: boolean,
    message: string,
    /** The provider's own code (Graph API `error.code`), when there is one. */
    readonly providerCode?: number | string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

/** Maps a Graph API error (same format from 360dialog-style BSPs) to a ProviderError. */
export function normaliseGraphError(httpStatus: number, body: unknown): ProviderError {
  const err = (body as { error?: { code?: number; message?: string; error_user_msg?: string; error_data?: { details?: string } } })?.error;
  const code = err?.code;
  // Send errors explain themselves in error_data.details, template errors in error_user_msg.
  const message = [err?.message, err?.error_data?.details ?? err?.error_user_msg].filter(Boolean).join(': ') || `HTTP ${httpStatus}`;
  const make = (c: ProviderErrorCode, retryable: boolean) => new ProviderError(c, retryable, message, code ?? httpStatus, httpStatus);
  if (code === 130429 || code === 80007 || code === 4 || code === 131048) return make('RATE_LIMITED', true);
  if (code === 131056) return make('PAIR_RATE_LIMITED', true);
  if (code === 131047) return make('OUTSIDE_WINDOW', false);
  if (code === 131026) return make('UNDELIVERABLE', false);
  if (code === 131050) return make('MARKETING_OPTED_OUT', false);
  if (code !== undefined && code >= 132000 && code <= 132016) return make('TEMPLATE_PROBLEM', false);
  if (code === 190 || httpStatus === 401) return make('AUTH', false);
  if (httpStatus === 429) return make('RATE_LIMITED', true);
  if (httpStatus >= 500 || code === 1 || code === 2 || code === 131000 || code === 131016) return make('TRANSIENT', true);
  return make('INVALID_REQUEST', false);
}
