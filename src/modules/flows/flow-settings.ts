import { parseBusinessHour } from '../reengagement/business-window.js';
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
