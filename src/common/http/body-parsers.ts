import { HttpStatus } from '@nestjs/common';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError, ErrorCode } from '../errors/app-error.js';
import type { AllExceptionsFilter } from '../errors/all-exceptions.filter.js';

export type RawBodyRequest = express.Request & { rawBody?: Buffer };

/**
 * JSON and form bodies, with the raw bytes kept on `req.rawBody` (webhook signatures are computed over them).
 * Parser failures become AppErrors so they reach the client in the common error shape.
 */
export function bodyParsers(limit: number): RequestHandler[] {
  const verify = (req: RawBodyRequest, _res: unknown, buf: Buffer) => {
    req.rawBody = buf;
  };
  return [
    express.json({ limit, verify, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ limit, verify, extended: false, parameterLimit: 1000 }),
  ];
}

/** Parser failures answered in the common error shape by `errors` (they happen before Nest's pipeline is in reach). */
export const bodyParserErrors = (errors: AllExceptionsFilter): ErrorRequestHandler => (err, req, res, next) => {
  const type = (err as { type?: string }).type;
  const status = (err as { status?: number }).status ?? 400;
  let error: AppError | null = null;
  if (type === 'entity.too.large') {
    error = new AppError(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large');
  } else if (type === 'entity.parse.failed') {
    error = new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'Request body is not valid JSON');
  } else if (type !== undefined && status >= 400 && status < 500) {
    error = new AppError(status, status === 415 ? ErrorCode.UNSUPPORTED_MEDIA_TYPE : ErrorCode.MALFORMED_BODY, String((err as Error).message));
  }
  if (!error) return next(err);
  errors.send(error, req as { id?: string }, res);
};
