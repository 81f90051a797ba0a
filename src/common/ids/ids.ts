import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = new Uint8Array(4096);
let used = pool.length;

/**
 * Cryptographic random numbers drawn from a pre-filled pool: ulid asks for one byte per character, and a system call
 * per byte showed up in the webhook hot path's profile.
 */
function pooledRandom(): number {
  if (used >= pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return pool[used++] / 0x100;
}

const next = monotonicFactory(pooledRandom);

/** Prefixed, time-sortable ids (`TNT01JD…`): newest-first ordering is ordering by id. */
export function newId(prefix: string): string {
  return prefix + next();
}
