/**
 * National identity numbers, per country. Pure functions; each returns the normalized form on success.
 *
 * - CO cédula de ciudadanía: digits only, 6 to 10 long after removing dots, spaces and dashes. The cédula has no
 *   public check digit (the NIT's verification digit belongs to tax ids, not to cédulas), so only the form is checked.
 * - MX CURP: 18 characters in the RENAPO layout (valid birth date, sex H/M/X, state code) and its check digit.
 * - ES DNI: 8 digits and the control letter (number mod 23); NIE: X/Y/Z (read as 0/1/2) + 7 digits + the same letter.
 */
import type { AnswerResult } from './answer-result.js';

export const NATIONAL_ID_COUNTRIES = ['CO', 'MX', 'ES'] as const;
export type NationalIdCountry = (typeof NATIONAL_ID_COUNTRIES)[number];

const fail = (error: string): AnswerResult => ({ valid: false, error });

export function validateCoCedula(input: string): AnswerResult {
  const digits = input.trim().replace(/[.\s-]/g, '');
  if (!/^\d+$/.test(digits)) return fail('not_digits');
  if (digits.length < 6 || digits.length > 10) return fail('bad_length');
  if (/^0/.test(digits)) return fail('leading_zero');
  return { valid: true, normalized: digits };
}

const CURP_STATES = 'AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE';
const CURP = new RegExp(`^[A-Z][AEIOUX][A-Z]{2}(\\d{2})(\\d{2})(\\d{2})[HMX](?:${CURP_STATES})[B-DF-HJ-NP-TV-Z]{3}([A-Z\\d])(\\d)$`);
// RENAPO's alphabet for the check digit: digits, then letters with Ñ after N.
const CURP_ALPHABET = '0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ';

/** The CURP check digit of its first 17 characters. */
export function curpCheckDigit(first17: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += CURP_ALPHABET.indexOf(first17[i]) * (18 - i);
  return (10 - (sum % 10)) % 10;
}

export function validateMxCurp(input: string): AnswerResult {
  const curp = input.trim().replace(/\s+/g, '').toUpperCase();
  const m = CURP.exec(curp);
  if (!m) return fail('bad_format');
  const [, yy, mm, dd, century] = m;
  // Position 17 is a digit for births up to 1999 and a letter from 2000 on.
  const year = (/\d/.test(century) ? 1900 : 2000) + Number(yy);
  if (!isRealDate(year, Number(mm), Number(dd))) return fail('bad_birth_date');
  if (curpCheckDigit(curp.slice(0, 17)) !== Number(curp[17])) return fail('bad_check_digit');
  return { valid: true, normalized: curp };
}

const DNI_LETTERS = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** The control letter of a DNI number (or of a NIE with its prefix already replaced by 0/1/2). */
export function dniLetter(digits: string): string {
  return DNI_LETTERS[Number(digits) % 23];
}

export function validateEsDniNie(input: string): AnswerResult {
  const id = input
    .trim()
    .replace(/[\s.-]/g, '')
    .toUpperCase();
  const dni = /^(\d{8})([A-Z])$/.exec(id);
  if (dni) return dniLetter(dni[1]) === dni[2] ? { valid: true, normalized: id } : fail('bad_check_letter');
  const nie = /^([XYZ])(\d{7})([A-Z])$/.exec(id);
  if (nie) {
    const digits = String('XYZ'.indexOf(nie[1])) + nie[2];
    return dniLetter(digits) === nie[3] ? { valid: true, normalized: id } : fail('bad_check_letter');
  }
  return fail('bad_format');
}

export function validateNationalId(input: string, country: NationalIdCountry): AnswerResult {
  switch (country) {
    case 'CO':
      return validateCoCedula(input);
    case 'MX':
      return validateMxCurp(input);
    case 'ES':
      return validateEsDniNie(input);
  }
}

function isRealDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
