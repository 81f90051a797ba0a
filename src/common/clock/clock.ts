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
