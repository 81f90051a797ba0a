/**
 * Answer validators for `question` steps. Pure: the engine calls `validateAnswer` with the step's validator
 * definition and the user's text. `error` is a stable machine code; the user sees the step's `error_text`.
 */
import { isEmail } from 'class-validator';
import type { AnswerResult } from './answer-result.js';
import { NationalIdCountry, validateNationalId } from './national-id.js';

export type { AnswerResult } from './answer-result.js';
import { compilePattern } from './tenant-regex.js';

export type TextValidator = { type: 'text'; min_length?: number; max_length?: number };
export type EmailValidator = { type: 'email' };
export type NumberValidator = { type: 'number'; min?: number; max?: number };
export type DateValidator = { type: 'date'; format?: string; min?: string; max?: string };
export type RegexValidator = { type: 'regex'; pattern: string; flags?: string };
export type NationalIdValidator = { type: 'national_id'; country: NationalIdCountry };
export type AnswerValidator = TextValidator | EmailValidator | NumberValidator | DateValidator | RegexValidator | NationalIdValidator;
export type AnswerValidatorType = AnswerValidator['type'];

/** Longest answer any validator looks at: keeps regexes and parsing bounded. */
export const MAX_ANSWER_LENGTH = 4096;
export const DEFAULT_DATE_FORMAT = 'YYYY-MM-DD';

const ok = (normalized: string): AnswerResult => ({ valid: true, normalized });
const fail = (error: string): AnswerResult => ({ valid: false, error });
const length = (s: string) => [...s].length;

export function validateText(input: string, v: Omit<TextValidator, 'type'> = {}): AnswerResult {
  const text = input.trim();
  if (length(text) === 0) return fail('empty');
  if (v.min_length !== undefined && length(text) < v.min_length) return fail('too_short');
  if (v.max_length !== undefined && length(text) > v.max_length) return fail('too_long');
  return ok(text);
}

export function validateEmail(input: string): AnswerResult {
  const email = input.trim();
  if (email.length > 254 || !isEmail(email)) return fail('not_an_email');
  const at = email.lastIndexOf('@');
  // The local part may be case-sensitive in theory; the domain never is.
  return ok(email.slice(0, at) + '@' + email.slice(at + 1).toLowerCase());
}

/**
 * Numbers as people type them: `1500`, `-3`, `2.5`, `2,5`, `1.500.000`, `1,500,000.75`, `1.500.000,75`.
 * With both `.` and `,` the last one is the decimal mark; one kind repeated is a thousands separator; a single
 * separator is a decimal mark (so `1.500` is one and a half: ask for whole numbers with a regex if that matters).
 */
export function parseNumber(input: string): number | null {
  const s = input.trim().replace(/\s+/g, '');
  if (!/^[+-]?\d[\d.,]*$/.test(s) || /[.,]$/.test(s)) return null;
  const dots = (s.match(/\./g) ?? []).length;
  const commas = (s.match(/,/g) ?? []).length;
  let canonical: string;
  if (dots > 0 && commas > 0) {
    const decimal = s.lastIndexOf('.') > s.lastIndexOf(',') ? '.' : ',';
    const thousands = decimal === '.' ? ',' : '.';
    const [intPart, fraction, ...rest] = s.split(decimal);
    if (rest.length > 0 || !isGrouped(intPart, thousands)) return null;
    canonical = intPart.split(thousands).join('') + '.' + fraction;
  } else if (dots + commas === 1) {
    canonical = s.replace(',', '.');
  } else if (dots + commas > 1) {
    const sep = dots > 0 ? '.' : ',';
    if (!isGrouped(s, sep)) return null;
    canonical = s.split(sep).join('');
  } else {
    canonical = s;
  }
  const n = Number(canonical);
  return Number.isFinite(n) ? n : null;
}

const isGrouped = (s: string, sep: string) => new RegExp(`^[+-]?\\d{1,3}(\\${sep}\\d{3})*$`).test(s);

export function validateNumber(input: string, v: Omit<NumberValidator, 'type'> = {}): AnswerResult {
  const n = parseNumber(input);
  if (n === null) return fail('not_a_number');
  if (v.min !== undefined && n < v.min) return fail('below_min');
  if (v.max !== undefined && n > v.max) return fail('above_max');
  return ok(String(n));
}

const DATE_TOKENS = /YYYY|MM|DD/g;

/** Whether a date format is made of YYYY, MM and DD, each once, joined by `-`, `/`, `.` or spaces. */
export function isSupportedDateFormat(format: string): boolean {
  const tokens = format.match(DATE_TOKENS) ?? [];
  return (
    tokens.length === 3 && new Set(tokens).size === 3 && /^[-/. ]*$/.test(format.replace(DATE_TOKENS, '')) && /^(YYYY|MM|DD)[-/. ]?(YYYY|MM|DD)[-/. ]?(YYYY|MM|DD)$/.test(format)
  );
}

/** A date typed in `format` (day and month may have one digit; any of `-/. ` separates) → `YYYY-MM-DD`, or null. */
export function parseDate(input: string, format = DEFAULT_DATE_FORMAT): string | null {
  if (!isSupportedDateFormat(format)) return null;
  const order: string[] = [];
  // Without separators (YYYYMMDD) day and month need both digits to be told apart.
  const dayMonth = /[-/. ]/.test(format) ? '(\\d{1,2})' : '(\\d{2})';
  const pattern = format.replace(/YYYY|MM|DD|[-/. ]/g, (token) => {
    if (token === 'YYYY') return (order.push(token), '(\\d{4})');
    if (token === 'MM' || token === 'DD') return (order.push(token), dayMonth);
    return '[-/. ]';
  });
  const m = new RegExp(`^${pattern}$`).exec(input.trim());
  if (!m) return null;
  const part = (token: string) => Number(m[order.indexOf(token) + 1]);
  const [y, mo, d] = [part('YYYY'), part('MM'), part('DD')];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `min` and `max` are ISO dates (`YYYY-MM-DD`) whatever the answer format; the normalized answer is ISO too. */
export function validateDate(input: string, v: Omit<DateValidator, 'type'> = {}): AnswerResult {
  const iso = parseDate(input, v.format ?? DEFAULT_DATE_FORMAT);
  if (!iso) return fail('not_a_date');
  if (v.min !== undefined && iso < v.min) return fail('before_min');
  if (v.max !== undefined && iso > v.max) return fail('after_max');
  return ok(iso);
}

/** Flags of a regex validator: i, m, s and u, each at most once. */
export function isSupportedRegexFlags(flags: string): boolean {
  return /^[imsu]*$/.test(flags) && new Set(flags).size === flags.length;
}

/**
 * The whole (trimmed) answer must match the pattern (RE2 syntax, linear time: see tenant-regex.ts). A pattern stored
 * before patterns were checked for RE2 fails closed: `unsupported_pattern`.
 */
export function validateRegex(input: string, v: Omit<RegexValidator, 'type'>): AnswerResult {
  const text = input.trim();
  const compiled = compilePattern(v.pattern, v.flags ?? '');
  if (!compiled.ok) return fail('unsupported_pattern');
  if (text.length > compiled.maxInput) return fail('too_long');
  return compiled.re.matches(text) ? ok(text) : fail('no_match');
}

export function validateAnswer(input: string, validator: AnswerValidator): AnswerResult {
  if (typeof input !== 'string' || input.trim() === '') return fail('empty');
  if (input.length > MAX_ANSWER_LENGTH) return fail('too_long');
  switch (validator.type) {
    case 'text':
      return validateText(input, validator);
    case 'email':
      return validateEmail(input);
    case 'number':
      return validateNumber(input, validator);
    case 'date':
      return validateDate(input, validator);
    case 'regex':
      return validateRegex(input, validator);
    case 'national_id':
      return validateNationalId(input, validator.country);
  }
}
