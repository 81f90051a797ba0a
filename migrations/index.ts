import { Foundation1732250000000 } from './1732250000000-foundation.js';
import { Hooks1732260000000 } from './1732260000000-hooks.js';

/** Every migration, oldest first. Listed explicitly so the app, the tests and the CLI load the same set. */
export const migrations = [Foundation1732250000000, Hooks1732260000000];
