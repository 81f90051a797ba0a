import { Injectable } from '@nestjs/common';

/** Every deadline reads time from here, so tests can move time instead of sleeping. */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/**
 * SANDBOX_CLOCK=true only (never in production): the real time plus an offset that `advance` moves forward, for
 * trying follow-ups and expiries without waiting.
 */
export class MovableClock extends Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
