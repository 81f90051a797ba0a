/**
 * What a job handler can throw besides an ordinary error (which is retried with backoff until the job's attempts run
 * out, then given up).
 */

/** Not done yet, and not a failure: run again after `delayMs` without counting this attempt (e.g. still in review). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason = 'not ready yet',
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** A failure that retrying cannot fix (refused for good, bad credentials): give the job up now, with `onGiveUp`. */
export class GiveUp extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'GiveUp';
  }
}

/** Exponential backoff with a cap and "equal jitter": between half and all of `base·2^(attempt-1)`, at most `cap`. */
export function backoffMs(attempt: number, backoff: { baseMs: number; capMs: number }, random = Math.random): number {
  const full = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
