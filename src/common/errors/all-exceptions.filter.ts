import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ServerResponse } from 'node:http';
import { QueryFailedError } from 'typeorm';
import { databaseUnavailable } from '../../database/pg-errors.js';
import { AppError, ErrorCode } from './app-error.js';

/** Seconds a client is told to wait when the database is away (PostgreSQL restarts take a few). */
const DATABASE_RETRY_AFTER_SECONDS = 5;

const BY_STATUS: Record<number, string> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.ROUTE_NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
};

/** The one place errors become responses: `{statusCode, code, message, details?, requestId}`. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    this.send(exception, ctx.getRequest<Request & { id?: string }>(), ctx.getResponse<Response>());
  }

  /** Answers `exception` in the common error shape (also used by handlers that run outside Nest's pipeline). */
  send(exception: unknown, req: { id?: string }, res: ServerResponse): void {
    if (databaseUnavailable(exception)) {
      // Not a bug of ours and not the client's: a 503 it retries (Meta retries webhook calls), one line in the log.
      this.logger.warn({ requestId: req.id, reason: (exception as Error).message }, 'database unavailable');
      if (!res.headersSent) res.setHeader('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return this.write({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, code: ErrorCode.DATABASE_UNAVAILABLE, message: 'The database is unavailable; retry later' }, req, res);
    }
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error({ err: exception, requestId: req.id }, 'unhandled error');
    this.write(body, req, res);
  }

  private write(body: { statusCode: number; code: string; message: string; details?: unknown }, req: { id?: string }, res: ServerResponse): void {
    if (res.headersSent) return;
    const json = JSON.stringify({ ...body, requestId: String(req.id ?? '') });
    res.statusCode = body.statusCode;
    // An endpoint may have set another content type (the webhook handshake answers text/plain).
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(json));
    res.end(json);
  }

  private toBody(exception: unknown): { statusCode: number; code: string; message: string; details?: unknown } {
    if (exception instanceof AppError) {
      return { statusCode: exception.status, code: exception.code, message: exception.message, details: exception.details };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? exception.message);
      return { statusCode: status, code: BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : 'HTTP_' + status), message };
    }
    // PostgreSQL's "data exception" class (22xxx: a NUL byte in text, an out-of-range date…) can only come from a
    // value the client sent that validation let through: it is the client's error, not ours.
    const sqlState = exception instanceof QueryFailedError ? String((exception.driverError as { code?: string }).code ?? '') : '';
    if (sqlState.startsWith('22')) {
      return { statusCode: HttpStatus.BAD_REQUEST, code: ErrorCode.INVALID_INPUT, message: 'A value in the request cannot be stored (invalid characters or out of range)' };
    }
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, code: ErrorCode.INTERNAL, message: 'Internal server error' };
  }
}
