/** Why a time-stamp could not be had; every kind may pass (a TSA that is down, slow or briefly refusing). */
export type TsaFailure = 'timeout' | 'network' | 'http_status' | 'rejected' | 'invalid_answer';

/**
 * TSA_URL is set and its time-stamping authority gave no usable token: nothing was signed. Retryable: the caller tries
 * again later (a job throws RetryLater) instead of signing at a lower level than configured.
 */
export class TsaUnavailableError extends Error {
  readonly retryable = true;
  constructor(
    readonly reason: TsaFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TsaUnavailableError';
  }
}
