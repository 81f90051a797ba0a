import { QueryFailedError } from 'typeorm';

/** The constraint name when `err` is a PostgreSQL unique violation, else null. */
export function uniqueViolation(err: unknown): string | null {
  if (err instanceof QueryFailedError) {
    const driverError = err.driverError as { code?: string; constraint?: string };
    if (driverError.code === '23505') return driverError.constraint ?? '';
  }
  return null;
}

/**
 * SQLSTATEs that mean the server is away, not that the statement was wrong: connection exceptions (08xxx), the
 * server shutting down or starting up (57P01–57P03) and too many connections (53300).
 */
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
/** What node-postgres and Node's sockets say when there is no server, or it went away mid-query. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

/** Whether `err` says the database cannot be reached right now (worth a 503 and a retry, never a 500). */
export function databaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_CODES.has(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    // TypeORM wraps the driver's error; an AggregateError (several addresses refused) holds the socket errors.
    e = (e as { driverError?: unknown; cause?: unknown; errors?: unknown[] }).driverError ?? (e as { cause?: unknown }).cause ?? (e as { errors?: unknown[] }).errors?.[0];
  }
  return false;
}
