import { DEFAULT_FLOW_SETTINGS, type FlowSettings } from './flow-definition.js';

/** Settings as a request may give them: any subset, business hours as `HH:MM` or an ISO date-time. */
export type FlowSettingsInput = Partial<Record<keyof FlowSettings, unknown>>;

export const FOLLOW_UP_DELAY = { min: 30, max: 1380 } as const;
export const EXPIRATION_MINUTES = { min: 1, max: 10080 } as const;

/**
 * `base` (the defaults, or the current version's settings on PATCH) overlaid with the given fields. Inputs are
 * already validated by the request DTO; business hours are stored normalized as `HH:MM` UTC.
 */
export function resolveSettings(input: FlowSettingsInput | undefined, base: FlowSettings = DEFAULT_FLOW_SETTINGS): FlowSettings {
  const settings: FlowSettings = { ...DEFAULT_FLOW_SETTINGS, ...base };
  if (!input) return settings;
  for (const key of Object.keys(DEFAULT_FLOW_SETTINGS) as Array<keyof FlowSettings>) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    if (key === 'start_business_hours' || key === 'end_business_hours') {
      const hour = parseBusinessHour(value);
      if (hour === null) throw new RangeError(`${key} is not a time of day: ${String(value)}`);
      settings[key] = hour;
    } else {
      (settings as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return settings;
}

/** A UTC time of day, `HH:MM`. */
export const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
// Date and time, optional seconds/fraction, optional offset (none means UTC, since only UTC time of day counts).
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `HH:MM` or an ISO date-time (`2021-01-01T13:00:00.000Z`) → the UTC time of day as `HH:MM`; null when invalid.
 * Seconds are dropped: windows have minute precision. A date-time without an offset is read as UTC.
 */
export function parseBusinessHour(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const value = input.trim();
  if (HH_MM.test(value)) return value;
  const iso = ISO_DATE_TIME.exec(value);
  if (!iso) return null;
  const ms = Date.parse(iso[1] ? value : value + 'Z');
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}
