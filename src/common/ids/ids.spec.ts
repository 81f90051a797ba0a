import { newId } from './ids.js';

describe('newId', () => {
  it('is prefixed, 26 Crockford base32 characters, unique and sortable in creation order', () => {
    const ids = Array.from({ length: 5000 }, () => newId('MSG'));
    for (const id of ids) expect(id).toMatch(/^MSG[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});
