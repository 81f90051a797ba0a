import { toE164, toMobileE164 } from './phone.js';

describe('phone numbers', () => {
  it('normalises international numbers to E.164', () => {
    expect(toE164('+57 300 123 4567')).toBe('+573001234567');
    expect(toE164('573001234567')).toBe('+573001234567');
    expect(toE164('+1 (415) 555-0100')).toBe('+14155550100');
  });

  it('rejects invalid numbers', () => {
    expect(toE164('12345')).toBeNull();
    expect(toE164('+57 300')).toBeNull();
    expect(toE164('hello')).toBeNull();
  });

  it('builds mobile numbers from a national number and a calling code or ISO country', () => {
    expect(toMobileE164('3001234567', '57')).toBe('+573001234567');
    expect(toMobileE164('3001234567', '+57')).toBe('+573001234567');
    expect(toMobileE164('3001234567', 'CO')).toBe('+573001234567');
    expect(toMobileE164('3001234567', 'co')).toBe('+573001234567');
  });

  it('refuses landlines and nonsense', () => {
    expect(toMobileE164('6012345678', '57')).toBeNull(); // Bogotá landline
    expect(toMobileE164('300', '57')).toBeNull();
    expect(toMobileE164('3001234567', 'ZZ')).toBeNull();
  });
});
