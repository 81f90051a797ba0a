import { HttpStatus } from '@nestjs/common';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError, ErrorCode } from '../errors/app-error.js';
import type { AllExceptionsFilter } from '../errors/all-exceptions.filter.js';

export type RawBodyRequest = express.Request & { rawBody?: Buffer };

/**
 * JSON and form bodies, with the raw bytes kept on `req.rawBody` (webhook signatures are computed over them).
 * Parser failures become AppErrors so they reach the client in the common error shape.
 */
export function bodyParsers(limit: number, streamed: ReadonlyArray<StreamedRoute> = []): RequestHandler[] {
  const verify = (req: RawBodyRequest, _res: unknown, buf: Buffer) => {
    req.rawBody = buf;
  };
  const parsers = [
    unsupportedBodies,
    express.json({ limit, verify, type: JSON_TYPES }),
    express.urlencoded({ limit, verify, extended: false, parameterLimit: 1000 }),
    objectBodies,
  ];
  if (streamed.length === 0) return parsers;
  const isStreamed = (req: express.Request) => streamed.some((r) => r.method === req.method && r.path === req.path.replace(/\/+$/, ''));
  return parsers.map(
    (parse): RequestHandler =>
      (req, res, next) =>
        isStreamed(req) ? next() : parse(req, res, next),
  );
}

/** A route that reads its own body from the request stream (an upload with its own limit and content types). */
export interface StreamedRoute {
  method: string;
  path: string;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** A body in another format would reach the handlers as no body at all ("name is required"): say what is wrong. */
const unsupportedBodies: RequestHandler = (req, _res, next) => {
  const type = req.headers['content-type'];
  const length = Number(req.headers['content-length'] ?? 0);
  if (type && (length > 0 || req.headers['transfer-encoding']) && !req.is([...JSON_TYPES, 'application/x-www-form-urlencoded'])) {
    const mediaType = type.split(';')[0].trim();
    return next(
      Object.assign(new Error(`Content-Type ${mediaType} is not supported: send application/json or application/x-www-form-urlencoded`), {
        type: 'unsupported.media.type',
        status: 415,
      }),
    );
  }
  next();
};

/** Every body of this API is an object: a JSON array is refused here rather than read as an object's fields. */
const objectBodies: RequestHandler = (req, _res, next) => {
  if (Array.isArray(req.body)) return next(Object.assign(new Error(NOT_AN_OBJECT), { type: 'entity.not.object', status: 400 }));
  next();
};

const NOT_AN_OBJECT = 'The body must be a JSON object';

/** JSON that parses but is no object (`null`, `42`, `"x"`), which the parser's strict mode refuses. */
function isJsonScalar(raw: unknown): boolean {
  if (typeof raw !== 'string') return false;
  try {
    const v: unknown = JSON.parse(raw);
    return v === null || typeof v !== 'object';
  } catch {
    return false;
  }
}

/** Parser failures answered in the common error shape by `errors` (they happen before Nest's pipeline is in reach). */
export const bodyParserErrors =
  (errors: AllExceptionsFilter): ErrorRequestHandler =>
  (err, req, res, next) => {
    const type = (err as { type?: string }).type;
    const status = (err as { status?: number }).status ?? 400;
    let error: AppError | null = null;
    if (type === 'entity.too.large') {
      error = new AppError(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large');
    } else if (type === 'entity.parse.failed') {
      const message = isJsonScalar((err as { body?: unknown }).body) ? NOT_AN_OBJECT : 'Request body is not valid JSON';
      error = new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, message);
    } else if (type !== undefined && status >= 400 && status < 500) {
      error = new AppError(status, status === 415 ? ErrorCode.UNSUPPORTED_MEDIA_TYPE : ErrorCode.MALFORMED_BODY, String((err as Error).message));
    }
    if (!error) return next(err);
    errors.send(error, req as { id?: string }, res);
  };
