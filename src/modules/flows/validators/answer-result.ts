/** What a validator made of an answer. `error` is a stable machine code; the user sees the step's `error_text`. */
export interface AnswerResult {
  valid: boolean;
  /** The answer in canonical form (trimmed text, lower-cased email domain, ISO date, plain number, …). */
  normalized?: string;
  /** Why the answer was rejected, e.g. `too_short`, `not_a_number`, `bad_check_digit`. */
  error?: string;
}
