import { DEFAULT_FLOW_SETTINGS } from './flow-definition.js';
import { resolveSettings } from './flow-settings.js';

describe('resolveSettings', () => {
  it('applies every default', () => {
    expect(resolveSettings(undefined)).toEqual({
      expiration_minutes: 1440,
      language: 'es',
      enable_follow_up: false,
      follow_up_delay: 120,
      follow_up_message: 'Tienes un proceso activo en curso',
      start_business_hours: '13:00',
      end_business_hours: '00:00',
    });
    expect(resolveSettings({})).toEqual(DEFAULT_FLOW_SETTINGS);
  });

  it('normalizes business hours to HH:MM UTC and keeps the other fields', () => {
    const s = resolveSettings({ enable_follow_up: true, follow_up_delay: 30, start_business_hours: '2021-01-01T14:30:00.000Z', end_business_hours: '22:00' });
    expect(s).toMatchObject({ enable_follow_up: true, follow_up_delay: 30, start_business_hours: '14:30', end_business_hours: '22:00', language: 'es' });
  });

  it('overlays a base (PATCH keeps what it does not mention)', () => {
    const base = resolveSettings({ enable_follow_up: true, follow_up_message: 'Hola' });
    expect(resolveSettings({ follow_up_delay: 60 }, base)).toMatchObject({ enable_follow_up: true, follow_up_message: 'Hola', follow_up_delay: 60 });
  });

  it('refuses an unparseable business hour rather than storing it', () => {
    expect(() => resolveSettings({ start_business_hours: '25:00' })).toThrow(RangeError);
  });
});
