/**
 * Business-window arithmetic for re-engagement follow-ups. Pure: no Nest, no clock, no database.
 *
 * A window is a daily range of UTC time of day, `[start, end)`, given as `HH:MM`. `start > end` crosses midnight
 * (the default 13:00–00:00 UTC is 08:00–19:00 in UTC−5); `start === end` means always open.
 */
// Flows store their business hours through it; re-exported for the re-engagement rules.
export { parseBusinessHour } from '../flows/flow-settings.js';
import { HH_MM } from '../flows/flow-settings.js';

export interface BusinessWindow {
  start: string;
  end: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Minutes after midnight of an `HH:MM` string; throws on anything else (inputs come from parseBusinessHour). */
export function minuteOfDay(hhmm: string): number {
  const m = HH_MM.exec(hhmm);
  if (!m) throw new RangeError(`Not an HH:MM time of day: ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
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
