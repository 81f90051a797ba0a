/**
 * Business-window arithmetic for re-engagement follow-ups. Pure: no Nest, no clock, no database.
 *
 * A window is a daily range of UTC time of day, `[start, end)`, given as `HH:MM`. `start > end` crosses midnight
 * (the default 13:00–00:00 UTC is 08:00–19:00 in UTC−5); `start === end` means always open.
 */
export interface BusinessWindow {
  start: string;
  end: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
// Date and time, optional seconds/fraction, optional offset (none means UTC, since only UTC time of day counts).
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Minutes after midnight of an `HH:MM` string; throws on anything else (inputs come from parseBusinessHour). */
export function minuteOfDay(hhmm: string): number {
  const m = HH_MM.exec(hhmm);
  if (!m) throw new RangeError(`Not an HH:MM time of day: ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

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

/** Whether the instant `at` lies inside the daily UTC window `[start, end)`. */
export function isInsideWindow(at: Date, window: BusinessWindow): boolean {
  const start = minuteOfDay(window.start);
  const end = minuteOfDay(window.end);
  if (start === end) return true;
  const t = at.getTime();
  const minute = (t - Math.floor(t / DAY_MS) * DAY_MS) / MINUTE_MS; // fractional minute of the UTC day
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** `due` itself when it is inside the window, else the first window start after it. */
export function nextSendTime(due: Date, window: BusinessWindow): Date {
  if (isInsideWindow(due, window)) return new Date(due.getTime());
  const t = due.getTime();
  let candidate = Math.floor(t / DAY_MS) * DAY_MS + minuteOfDay(window.start) * MINUTE_MS;
  if (candidate < t) candidate += DAY_MS;
  return new Date(candidate);
}
