import { QueryFailedError } from 'typeorm';

const REDACTED = '[REDACTED]';

/**
 * Query parameters whose values are kept in access logs: paging, filters by id, status or date. Every other value
 * (phone numbers, tokens, `hub.verify_token`, `hub.challenge`, keys, anything added later) is redacted, so a new
 * parameter is private until it is listed here.
 */
const LOGGED_PARAMS = new Set(['limit', 'cursor', 'status', 'version', 'flow_id', 'event', 'from', 'to', 'hub.mode']);

/** The URL with the values of its query parameters redacted, except the harmless ones above. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // a malformed name stays as it is, and its value is redacted
      }
      return eq < 0 || LOGGED_PARAMS.has(name) ? pair : `${rawName}=${REDACTED}`;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/** Quoted values and runs of digits (phone numbers, ids, amounts) cut from a database message. */
const scrub = (message: string) => message.replace(/"[^"]*"/g, '"…"').replace(/\+?\d[\d\s-]{5,}\d/g, REDACTED);

/**
 * The `err` serializer of the logs. pino-http hands it errors already serialized by pino's standard serializer,
 * which copies every enumerable property: a TypeORM QueryFailedError's statement (`query`) and `parameters` (phone
 * numbers, answers, secrets) and PostgreSQL's error with its `detail` (`Key (phone_number)=(+57…)`). For those only
 * the kind, SQLSTATE, constraint, table, column and call stack are kept, and the message is scrubbed of values.
 */
export function logError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const e = err as Record<string, unknown>;
  const isQueryError = err instanceof QueryFailedError || e.type === 'QueryFailedError' || 'parameters' in e || 'driverError' in e;
  if (!isQueryError) return err;
  const pg = (e.driverError ?? {}) as Record<string, unknown>;
  return {
    type: 'QueryFailedError',
    message: scrub(String(e.message ?? '')),
    code: pg.code ?? e.code,
    constraint: pg.constraint,
    table: pg.table,
    column: pg.column,
    routine: pg.routine,
    // Without its first line, which repeats the message.
    stack: typeof e.stack === 'string' ? e.stack.split('\n').slice(1).join('\n') : undefined,
  };
}
