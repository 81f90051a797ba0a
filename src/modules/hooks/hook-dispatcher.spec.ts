import { retryDelay, RETRY_DELAYS_MS } from './hook-dispatcher.js';

describe('retry schedule', () => {
  it('follows 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h… within ±10%', () => {
    const expected = [5e3, 60e3, 300e3, 1800e3, 7200e3, 18000e3, 36000e3, 36000e3, 36000e3];
    expected.forEach((ms, i) => {
      expect(retryDelay(i + 1, 0.5)).toBe(ms);
      expect(retryDelay(i + 1, 0)).toBe(Math.round(ms * 0.9));
      expect(retryDelay(i + 1, 1)).toBe(Math.round(ms * 1.1));
    });
    expect(RETRY_DELAYS_MS).toHaveLength(7);
  });
});
