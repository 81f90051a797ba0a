import { ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { AppError, ErrorCode, FieldError } from './app-error.js';

/** Constraints about a value's type: when one fails, its length, range and format rules say nothing useful. */
const TYPE_CONSTRAINTS = new Set(['isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isDate', 'isEnum', 'nestedValidation']);

function messagesOf(e: ValidationError, field: string): string[] {
  const constraints = e.constraints ?? {};
  // A field that is missing is only that: "name must be shorter than 200 characters" would be noise.
  if ((e.value === undefined || e.value === null) && !('whitelistValidation' in constraints)) return [`${field} is required`];
  const types = Object.keys(constraints).filter((k) => TYPE_CONSTRAINTS.has(k));
  return (types.length ? types : Object.keys(constraints)).map((k) => constraints[k]);
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: messagesOf(e, field) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

export function validationFailed(details: FieldError[]): AppError {
  return new AppError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, `Validation failed: ${[...new Set(details.map((d) => d.field))].join(', ')}`, details);
}

/** The app's providers, for checks that need one (a flow's steps need the step-type registry). */
export type ProviderLookup = <S>(type: abstract new (...args: never[]) => S) => S;

/** Checks a DTO needs beyond its decorators (a flow's steps), given the instance whatever its other fields hold. */
export type DtoCheck<T> = (dto: T, providers: ProviderLookup) => FieldError[];
const CHECKS = Symbol('dto-checks');

/**
 * Adds a check that runs with the DTO's decorators, so a request hears of every problem in one answer (a wrong type
 * in one field and a broken step in another) instead of one kind per round.
 */
export function AlsoValidate<T>(check: DtoCheck<T>): ClassDecorator {
  return (target) => {
    const own = ((target as unknown as Record<symbol, DtoCheck<unknown>[]>)[CHECKS] ?? []).slice();
    own.push(check as DtoCheck<unknown>);
    Object.defineProperty(target, CHECKS, { value: own, enumerable: false, configurable: true });
  };
}

class AppValidationPipe extends ValidationPipe {
  constructor(
    options: ConstructorParameters<typeof ValidationPipe>[0],
    private readonly providers: ProviderLookup,
  ) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const checks = (metadata.metatype as unknown as Record<symbol, DtoCheck<unknown>[]> | undefined)?.[CHECKS];
    if (!checks?.length) return super.transform(value, metadata);
    let result: unknown;
    let failed: FieldError[] = [];
    try {
      result = await super.transform(value, metadata);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== ErrorCode.VALIDATION_FAILED) throw err;
      failed = (err.details as FieldError[]) ?? [];
      // The checks see the body as the DTO's transforms make it (JSON strings of form bodies parsed).
      result = value && typeof value === 'object' ? plainToInstance(metadata.metatype!, value) : {};
    }
    const more = checks.flatMap((check) => check(result, this.providers));
    if (failed.length === 0 && more.length === 0) return result;
    const seen = new Set(failed.map((d) => d.field));
    throw validationFailed([...failed, ...more.filter((d) => !seen.has(d.field))]);
  }
}

/** DTO validation: converts types from form bodies and query strings, rejects unknown fields, names every bad field. */
export function createValidationPipe(providers: ProviderLookup): ValidationPipe {
  return new AppValidationPipe(
    {
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      // Values are read to tell a missing field from a bad one, never put in the answer.
      validationError: { target: false, value: true },
      exceptionFactory: (errors) => validationFailed(flatten(errors)),
    },
    providers,
  );
}
