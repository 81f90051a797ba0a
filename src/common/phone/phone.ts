import { LRUCache } from 'lru-cache';
import { registerDecorator, ValidationOptions } from 'class-validator';
import { parsePhoneNumberFromString, type CountryCode, getCountryCallingCode, isSupportedCountry } from 'libphonenumber-js/max';

/** Numbers seen recently: every inbound message is normalised several times, and the same users write again and again. */
const recent = new LRUCache<string, { e164: string | null }>({ max: 10_000 });

/** E.164 (`+573001234567`) of a full international number, or null when it is not a valid number. */
export function toE164(input: string): string | null {
  // No number is longer (E.164 has at most 15 digits): a long input is neither parsed nor cached.
  if (typeof input !== 'string' || input.length > 32) return null;
  const hit = recent.get(input);
  if (hit) return hit.e164;
  const cleaned = input.trim();
  const parsed = /^\+?[\d\s().-]{6,20}$/.test(cleaned) ? parsePhoneNumberFromString(cleaned.startsWith('+') ? cleaned : `+${cleaned}`) : undefined;
  const e164 = parsed?.isValid() ? parsed.number : null;
  recent.set(input, { e164 });
  return e164;
}

/** A WhatsApp user's number (`wa_id`) as stored: E.164 when valid, else the digits after a `+` (kept, never dropped). */
export function userPhone(waId: string): string {
  return toE164(waId) ?? `+${waId}`;
}

/**
 * A national number plus a calling code (`57`, `+57`) or an ISO country (`CO`); returns E.164 when the result is
 * a valid mobile (or fixed-or-mobile) number, else null.
 */
export function toMobileE164(nationalNumber: string, countryCode: string): string | null {
  const cc = String(countryCode ?? '')
    .trim()
    .toUpperCase();
  const national = String(nationalNumber ?? '').replace(/[\s().-]/g, '');
  if (!/^\d{4,15}$/.test(national)) return null;
  let calling: string;
  if (/^\+?\d{1,4}$/.test(cc)) calling = cc.replace('+', '');
  else if (/^[A-Z]{2}$/.test(cc) && isSupportedCountry(cc)) calling = getCountryCallingCode(cc as CountryCode);
  else return null;
  const parsed = parsePhoneNumberFromString(`+${calling}${national}`);
  if (!parsed?.isValid()) return null;
  const type = parsed.getType();
  return type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE' || type === undefined ? parsed.number : null;
}

/** The number's digits without `+`, as WhatsApp writes them (`wa_id`, wa.me links). */
export function digits(e164: string): string {
  return e164.replace(/\D/g, '');
}

/** class-validator: a valid international phone number with country code. */
export function IsE164Phone(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isE164Phone',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be a valid phone number with country code, e.g. +573001234567`, ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && toE164(value) !== null },
    });
}
