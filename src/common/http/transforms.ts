import { Transform } from 'class-transformer';

/** Booleans from JSON (true) or form/query strings ("true", "false", "1", "0"); anything else is left to fail validation. */
export const ToBoolean = () =>
  Transform(({ value }) => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      const v = value.trim().toLowerCase();
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
    }
    return value;
  });

/** Integers from JSON numbers or numeric strings; anything else is left to fail validation. */
export const ToInt = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));

/** A JSON value that form bodies carry as a string (e.g. `options`). Unparseable text is left to fail validation. */
export const ParseJsonString = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  });

export const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
