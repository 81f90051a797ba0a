import { backoffMs } from './job-outcomes.js';

describe('backoffMs', () => {
  const backoff = { baseMs: 1000, capMs: 10_000 };

  it('doubles per attempt, jittered between half and all of it', () => {
    expect(backoffMs(1, backoff, () => 0)).toBe(500);
    expect(backoffMs(1, backoff, () => 1)).toBe(1000);
    expect(backoffMs(3, backoff, () => 0)).toBe(2000);
    expect(backoffMs(3, backoff, () => 1)).toBe(4000);
    expect(backoffMs(3, backoff, () => 0.5)).toBe(3000);
  });

  it('never waits longer than the cap, however many attempts', () => {
    expect(backoffMs(5, backoff, () => 1)).toBe(10_000);
    expect(backoffMs(60, backoff, () => 1)).toBe(10_000);
    expect(backoffMs(60, backoff, () => 0)).toBe(5000);
  });
});
