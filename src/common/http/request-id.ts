import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** The caller's `X-Request-Id` when sane, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
}

/** Gives every request an id, echoed in the response and in every log line. */
export function requestId(req: Request & { id?: string }, res: Response, next: NextFunction): void {
  req.id = requestIdOf(req.headers);
  res.setHeader('x-request-id', req.id);
  next();
}
