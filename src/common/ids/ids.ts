import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** Prefixed, time-sortable ids (`TNT01JD…`): newest-first ordering is ordering by id. */
export function newId(prefix: string): string {
  return prefix + next();
}
