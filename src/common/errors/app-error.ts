import { HttpStatus } from '@nestjs/common';

const declared = new Set<string>();

/**
 * Declares a module's error codes (a const object whose values are the codes); AppError takes no other code. Each
 * module also adds its codes to `DeclaredErrorCodes` (`interface DeclaredErrorCodes extends CodesOf<typeof X> {}` in
 * a `declare module` of this file), so an undeclared code does not compile.
 */
export function declareErrorCodes<const T extends Record<string, string>>(codes: T): T {
  for (const code of Object.values(codes)) {
    if (declared.has(code)) throw new Error(`error code ${code} is declared twice`);
    declared.add(code);
  }
  return codes;
}

/** Every code declared so far (all of them once the app's modules are loaded), sorted. */
export function declaredErrorCodes(): string[] {
  return [...declared].sort();
}

export type CodesOf<T extends Record<string, string>> = Record<T[keyof T], true>;

/** Stable error codes: clients branch on these, so existing values never change meaning. */
export const ErrorCode = declareErrorCodes({
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_BODY: 'MALFORMED_BODY',
  INVALID_INPUT: 'INVALID_INPUT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  NUMBER_TAKEN: 'NUMBER_TAKEN',
  LINE_NOT_VERIFIED: 'LINE_NOT_VERIFIED',
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  RATE_LIMITED: 'RATE_LIMITED',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  STARTING: 'STARTING',
  INTERNAL: 'INTERNAL',
});

/** The codes of every module, merged in by each module's `*.errors.ts`. */
export interface DeclaredErrorCodes extends CodesOf<typeof ErrorCode> {}
export type ErrorCodeValue = keyof DeclaredErrorCodes;

export interface FieldError {
  field: string;
  messages: string[];
}

/** An error meant for the client: its status, stable code and message reach the response as they are. */
export class AppError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: ErrorCodeValue,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  static notFound(what: string, id?: string): AppError {
    return new AppError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, id ? `${what} ${id} not found` : `${what} not found`);
  }

  static validation(field: string, message: string): AppError {
    return new AppError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, message, [{ field, messages: [message] }]);
  }

  static unauthenticated(message = 'A valid API key is required (header Truora-API-Key or X-API-Key)'): AppError {
    return new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.UNAUTHENTICATED, message);
  }
}
