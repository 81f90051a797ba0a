import fc from 'fast-check';
import { isInsideWindow, minuteOfDay, nextSendTime, parseBusinessHour } from './business-window.js';

const at = (iso: string) => new Date(iso);
const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

describe('parseBusinessHour', () => {
  it.each([
    ['13:00', '13:00'],
    [' 08:05 ', '08:05'],
    ['00:00', '00:00'],
    ['23:59', '23:59'],
    ['2021-01-01T13:00:00.000Z', '13:00'],
    ['2021-01-01T13:00:59.999Z', '13:00'],
    ['2021-06-30T08:30:00-05:00', '13:30'],
    ['2021-06-30T20:15:00+0200', '18:15'],
    ['2021-01-01T07:45', '07:45'],
  ])('%s → %s', (input, expected) => {
    expect(parseBusinessHour(input)).toBe(expected);
  });

  it.each([['24:00'], ['7:00'], ['12:60'], ['1300'], [''], ['noon'], ['2021-01-01'], ['2021-13-01T10:00:00Z'], [13], [null], [undefined]])('rejects %p', (input) => {
    expect(parseBusinessHour(input)).toBeNull();
  });
});

describe('nextSendTime', () => {
  it('keeps a due time inside a same-day window', () => {
    expect(nextSendTime(at('2024-05-10T14:30:00Z'), { start: '09:00', end: '18:00' })).toEqual(at('2024-05-10T14:30:00Z'));
  });

  it('moves an early due time to the window start the same day, a late one to the next day', () => {
    const w = { start: '09:00', end: '18:00' };
    expect(nextSendTime(at('2024-05-10T03:10:00Z'), w)).toEqual(at('2024-05-10T09:00:00Z'));
    expect(nextSendTime(at('2024-05-10T18:00:00Z'), w)).toEqual(at('2024-05-11T09:00:00Z'));
    expect(nextSendTime(at('2024-05-10T23:59:59.999Z'), w)).toEqual(at('2024-05-11T09:00:00Z'));
  });

  it('treats start as inside and end as outside', () => {
    const w = { start: '09:00', end: '18:00' };
    expect(nextSendTime(at('2024-05-10T09:00:00Z'), w)).toEqual(at('2024-05-10T09:00:00Z'));
    expect(nextSendTime(at('2024-05-10T17:59:59.999Z'), w)).toEqual(at('2024-05-10T17:59:59.999Z'));
  });

  it('handles the default window, which crosses midnight (13:00–00:00 UTC)', () => {
    const w = { start: '13:00', end: '00:00' }; // the flows' default
    expect(w).toEqual({ start: '13:00', end: '00:00' });
    expect(nextSendTime(at('2024-05-10T12:59:00Z'), w)).toEqual(at('2024-05-10T13:00:00Z'));
    expect(nextSendTime(at('2024-05-10T13:00:00Z'), w)).toEqual(at('2024-05-10T13:00:00Z'));
    expect(nextSendTime(at('2024-05-10T23:59:00Z'), w)).toEqual(at('2024-05-10T23:59:00Z'));
    expect(nextSendTime(at('2024-05-11T00:00:00Z'), w)).toEqual(at('2024-05-11T13:00:00Z'));
    expect(nextSendTime(at('2024-05-11T05:00:00Z'), w)).toEqual(at('2024-05-11T13:00:00Z'));
  });

  it('handles a night window crossing midnight (22:00–06:00)', () => {
    const w = { start: '22:00', end: '06:00' };
    expect(nextSendTime(at('2024-12-31T23:30:00Z'), w)).toEqual(at('2024-12-31T23:30:00Z'));
    expect(nextSendTime(at('2025-01-01T05:59:00Z'), w)).toEqual(at('2025-01-01T05:59:00Z'));
    expect(nextSendTime(at('2025-01-01T06:00:00Z'), w)).toEqual(at('2025-01-01T22:00:00Z'));
    expect(nextSendTime(at('2025-01-01T21:59:59Z'), w)).toEqual(at('2025-01-01T22:00:00Z'));
  });

  it('an always-open window (start equal to end) never moves the due time', () => {
    for (const w of [
      { start: '00:00', end: '00:00' },
      { start: '13:00', end: '13:00' },
    ]) {
      expect(nextSendTime(at('2024-02-29T03:17:00Z'), w)).toEqual(at('2024-02-29T03:17:00Z'));
    }
  });

  it('crosses month and leap-day boundaries', () => {
    expect(nextSendTime(at('2024-02-28T20:00:00Z'), { start: '09:00', end: '18:00' })).toEqual(at('2024-02-29T09:00:00Z'));
    expect(nextSendTime(at('2024-12-31T20:00:00Z'), { start: '09:00', end: '18:00' })).toEqual(at('2025-01-01T09:00:00Z'));
  });

  it('rejects windows that are not HH:MM', () => {
    expect(() => nextSendTime(new Date(), { start: '9:00', end: '18:00' })).toThrow(RangeError);
  });

  describe('properties', () => {
    const minuteArb = fc.integer({ min: 0, max: 24 * 60 - 1 });
    const windowArb = fc.record({ start: minuteArb.map(hhmm), end: minuteArb.map(hhmm) });
    // Millisecond-precision instants over a few years, so seconds and milliseconds are exercised too.
    const dueArb = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms));

    it('the result is inside the window and never before the due time', () => {
      fc.assert(
        fc.property(dueArb, windowArb, (due, w) => {
          const result = nextSendTime(due, w);
          expect(isInsideWindow(result, w)).toBe(true);
          expect(result.getTime()).toBeGreaterThanOrEqual(due.getTime());
          expect(result.getTime() - due.getTime()).toBeLessThan(24 * 60 * 60_000);
        }),
        { numRuns: 2000 },
      );
    });

    it('the result is the earliest such moment: no earlier minute in [due, result) is inside the window', () => {
      fc.assert(
        fc.property(dueArb, windowArb, (due, w) => {
          const result = nextSendTime(due, w);
          if (result.getTime() === due.getTime()) return; // inside already: nothing earlier exists
          expect(isInsideWindow(due, w)).toBe(false);
          // Moved: the result is a window start (a whole minute) and every minute boundary before it is outside.
          expect(result.getUTCSeconds() + result.getUTCMilliseconds()).toBe(0);
          expect(hhmm(result.getUTCHours() * 60 + result.getUTCMinutes())).toBe(w.start);
          const firstBoundary = Math.ceil(due.getTime() / 60_000) * 60_000;
          for (let t = firstBoundary; t < result.getTime(); t += 60_000) {
            expect(isInsideWindow(new Date(t), w)).toBe(false);
          }
          // And the instant just before the result is outside too (covers a due time within the same minute).
          expect(isInsideWindow(new Date(result.getTime() - 1), w)).toBe(false);
        }),
        { numRuns: 150 },
      );
    });

    it('agrees with a brute-force minute-by-minute search', () => {
      fc.assert(
        fc.property(minuteArb, windowArb, (dueMinute, w) => {
          const due = new Date(Date.UTC(2024, 0, 1) + dueMinute * 60_000);
          let t = due.getTime();
          while (!isInsideWindow(new Date(t), w)) t += 60_000;
          expect(nextSendTime(due, w).getTime()).toBe(t);
        }),
        { numRuns: 500 },
      );
    });

    it('is idempotent: a result fed back in stays put', () => {
      fc.assert(
        fc.property(dueArb, windowArb, (due, w) => {
          const once = nextSendTime(due, w);
          expect(nextSendTime(once, w)).toEqual(once);
        }),
      );
    });

    it('an always-open window returns the due time unchanged', () => {
      fc.assert(
        fc.property(dueArb, minuteArb, (due, m) => {
          expect(nextSendTime(due, { start: hhmm(m), end: hhmm(m) })).toEqual(due);
        }),
      );
    });

    it('parseBusinessHour round-trips every HH:MM and every ISO date-time time of day', () => {
      fc.assert(
        fc.property(minuteArb, dueArb, (m, d) => {
          expect(parseBusinessHour(hhmm(m))).toBe(hhmm(m));
          expect(minuteOfDay(parseBusinessHour(d.toISOString())!)).toBe(d.getUTCHours() * 60 + d.getUTCMinutes());
        }),
      );
    });
  });
});
