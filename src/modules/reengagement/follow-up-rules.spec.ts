import fc from 'fast-check';
import { DEFAULT_FLOW_SETTINGS } from '../flows/flow-definition.js';
import { isInsideWindow } from './business-window.js';
import {
  businessWindowOf,
  DEFAULT_FOLLOW_UP_DELAY_MINUTES,
  DEFAULT_FOLLOW_UP_MESSAGE,
  FOLLOW_UP_NO,
  FOLLOW_UP_YES,
  followUpAnswerOf,
  followUpButtonTitles,
  followUpDueAt,
  followUpMessage,
  followUpsEnabled,
  followUpText,
} from './follow-up-rules.js';

const at = (iso: string) => new Date(iso);

describe('follow-up defaults', () => {
  it('is disabled unless enable_follow_up is exactly true', () => {
    expect(followUpsEnabled({})).toBe(false);
    expect(followUpsEnabled(null)).toBe(false);
    expect(followUpsEnabled(DEFAULT_FLOW_SETTINGS)).toBe(false);
    expect(followUpsEnabled({ enable_follow_up: 'true' as unknown as boolean })).toBe(false);
    expect(followUpsEnabled({ enable_follow_up: true })).toBe(true);
  });

  it('waits 120 minutes and uses the 13:00–00:00 UTC window when unset', () => {
    expect(DEFAULT_FOLLOW_UP_DELAY_MINUTES).toBe(120);
    expect(businessWindowOf({})).toEqual({ start: '13:00', end: '00:00' });
    // Inside the window: asked 15:00 → 17:00.
    expect(followUpDueAt(at('2026-03-02T15:00:00Z'), {})).toEqual(at('2026-03-02T17:00:00Z'));
    // 22:30 + 2 h = 00:30, outside (the window ends at midnight) → next start, 13:00.
    expect(followUpDueAt(at('2026-03-02T22:30:00Z'), {})).toEqual(at('2026-03-03T13:00:00Z'));
    // 21:59 + 2 h = 23:59, still inside.
    expect(followUpDueAt(at('2026-03-02T21:59:00Z'), {})).toEqual(at('2026-03-02T23:59:00Z'));
    // Asked early morning: 06:00 + 2 h = 08:00 → 13:00 the same day.
    expect(followUpDueAt(at('2026-03-02T06:00:00Z'), {})).toEqual(at('2026-03-02T13:00:00Z'));
  });

  it('matches the flow defaults', () => {
    expect(followUpDueAt(at('2026-03-02T15:00:00Z'), DEFAULT_FLOW_SETTINGS)).toEqual(followUpDueAt(at('2026-03-02T15:00:00Z'), {}));
    expect(followUpText(DEFAULT_FLOW_SETTINGS)).toBe(DEFAULT_FOLLOW_UP_MESSAGE);
  });

  it("sends 'Tienes un proceso activo en curso' unless a text is set", () => {
    expect(DEFAULT_FOLLOW_UP_MESSAGE).toBe('Tienes un proceso activo en curso');
    expect(followUpText({})).toBe('Tienes un proceso activo en curso');
    expect(followUpText({ follow_up_message: '  ' })).toBe('Tienes un proceso activo en curso');
    expect(followUpText({ follow_up_message: '¿Seguimos?' })).toBe('¿Seguimos?');
  });

  it('uses the given delay and window, and an ISO date-time counts by its UTC time of day', () => {
    const settings = { follow_up_delay: 30, start_business_hours: '2021-01-01T08:00:00.000Z', end_business_hours: '17:00' };
    expect(businessWindowOf(settings)).toEqual({ start: '08:00', end: '17:00' });
    expect(followUpDueAt(at('2026-03-02T10:00:00Z'), settings)).toEqual(at('2026-03-02T10:30:00Z'));
    expect(followUpDueAt(at('2026-03-02T16:45:00Z'), settings)).toEqual(at('2026-03-03T08:00:00Z'));
  });

  it('is never moved when start equals end (always open)', () => {
    expect(followUpDueAt(at('2026-03-02T03:10:00Z'), { follow_up_delay: 45, start_business_hours: '09:00', end_business_hours: '09:00' })).toEqual(at('2026-03-02T03:55:00Z'));
  });

  it('is inside the window, never before asked + delay, and within a day of it', () => {
    const hour = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.date({ min: at('2020-01-01T00:00:00Z'), max: at('2030-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 30, max: 1380 }),
        hour,
        hour,
        (asked, delay, start, end) => {
          const settings = { follow_up_delay: delay, start_business_hours: start, end_business_hours: end };
          const due = followUpDueAt(asked, settings);
          const earliest = asked.getTime() + delay * 60_000;
          expect(due.getTime()).toBeGreaterThanOrEqual(earliest);
          expect(due.getTime() - earliest).toBeLessThan(24 * 3600_000);
          expect(isInsideWindow(due, { start, end })).toBe(true);
        },
      ),
    );
  });
});

describe('follow-up message', () => {
  it('has yes/no buttons titled in the flow language', () => {
    expect(followUpMessage('Hola', 'es')).toEqual({
      kind: 'buttons',
      body: 'Hola',
      buttons: [
        { id: FOLLOW_UP_YES, title: 'Sí' },
        { id: FOLLOW_UP_NO, title: 'No' },
      ],
    });
    expect(FOLLOW_UP_YES).toBe('follow_up:yes');
    expect(FOLLOW_UP_NO).toBe('follow_up:no');
    expect(followUpButtonTitles('es-CO')).toEqual({ yes: 'Sí', no: 'No' });
    expect(followUpButtonTitles('en_US')).toEqual({ yes: 'Yes', no: 'No' });
    expect(followUpButtonTitles('pt-BR')).toEqual({ yes: 'Sim', no: 'Não' });
    expect(followUpButtonTitles('fr')).toEqual({ yes: 'Sí', no: 'No' });
  });

  it('maps a button reply id to its answer', () => {
    expect(followUpAnswerOf('follow_up:yes')).toBe('yes');
    expect(followUpAnswerOf('follow_up:no')).toBe('no');
    expect(followUpAnswerOf('yes')).toBeNull();
    expect(followUpAnswerOf(undefined)).toBeNull();
  });
});
