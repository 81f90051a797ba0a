import { Clock } from '../../src/common/clock/clock.js';

/** A clock tests move by hand. */
export class FakeClock extends Clock {
  private current: Date;

  constructor(start = new Date('2026-03-02T15:00:00.000Z')) {
    super();
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(date: Date | string): void {
    this.current = new Date(date);
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
