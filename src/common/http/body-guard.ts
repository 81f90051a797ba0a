import { HttpStatus } from '@nestjs/common';
import type { RequestHandler } from 'express';
import { AppError, ErrorCode } from '../errors/app-error.js';
import type { AllExceptionsFilter } from '../errors/all-exceptions.filter.js';
import type { RawBodyRequest } from './body-parsers.js';

/** Deeper than any body the API documents (a flow step is about 4 levels); class-transformer recurses per level. */
export const MAX_JSON_DEPTH = 32;

/** Keys that reach prototypes when a body is copied onto an object: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_ARRAY = 91;
const OPEN_OBJECT = 123;
const CLOSE_ARRAY = 93;
const CLOSE_OBJECT = 125;

/**
 * Whether JSON text nests arrays/objects deeper than `max`, found by one scan of the text (brackets inside strings
 * skipped) that stops at the first level too deep: nothing is parsed, so a hostile body costs microseconds.
 */
export function nestedDeeperThan(text: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** What the walk of a parsed body refuses, at `path`: a prototype key, or a string or key with a lone surrogate. */
export interface BodyProblem {
  path: string;
  kind: 'forbidden_key' | 'lone_surrogate';
}

/**
 * The first problem in a parsed body (`steps[0].__proto__`), or null. Walks without recursion. A lone UTF-16
 * surrogate (a `\ud800` escape without its pair) is no character: PostgreSQL refuses it in json and jsonb, and text
 * columns would get U+FFFD in its place. A key with one is named with U+FFFD in its place.
 */
export function bodyProblem(value: unknown, base = '', surrogatesPass = false): BodyProblem | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: base }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (!surrogatesPass && !v.isWellFormed()) return { path, kind: 'lone_surrogate' };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]` }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = path ? `${path}.${key.toWellFormed()}` : key.toWellFormed();
      if (FORBIDDEN_KEYS.has(key)) return { path: child, kind: 'forbidden_key' };
      if (!surrogatesPass && !key.isWellFormed()) return { path: child, kind: 'lone_surrogate' };
      stack.push({ v: (v as Record<string, unknown>)[key], path: child });
    }
  }
  return null;
}

const looksLikeJson = (s: string) => /^\s*[[{]/.test(s);

/**
 * Runs after the body parsers, before validation: a body nested deeper than MAX_JSON_DEPTH is 400 MALFORMED_BODY,
 * and a `__proto__`, `constructor` or `prototype` key anywhere is refused like an unknown field (400
 * VALIDATION_FAILED naming it), as is a string or key with a lone UTF-16 surrogate. Form fields that carry JSON
 * (`steps`, `settings`, `options`) are checked the same way before anything parses them.
 *
 * Under `mendedUnder` (the webhooks: a provider's call is stored as it came and made well-formed when processed, never
 * refused) lone surrogates pass.
 */
export function bodyGuard(errors: AllExceptionsFilter, mendedUnder: readonly string[] = []): RequestHandler {
  return (req: RawBodyRequest, res, next) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || !req.rawBody) return next();
    const mended = mendedUnder.some((p) => req.path === p || req.path.startsWith(`${p}/`));
    const problem = req.is('application/x-www-form-urlencoded') ? checkForm(req.rawBody, body as Record<string, unknown>, mended) : checkJson(req.rawBody, body, mended);
    if (problem) return errors.send(problem, req as { id?: string }, res);
    next();
  };
}

function tooDeep(field?: string): AppError {
  const where = field ? `Field ${field} is` : 'Request body is';
  return new AppError(
    HttpStatus.BAD_REQUEST,
    ErrorCode.MALFORMED_BODY,
    `${where} nested deeper than ${MAX_JSON_DEPTH} levels`,
    field ? [{ field, messages: [`${field} is nested deeper than ${MAX_JSON_DEPTH} levels`] }] : undefined,
  );
}

function refusal({ path, kind }: BodyProblem): AppError {
  if (kind === 'forbidden_key') return AppError.validation(path, `property ${path} should not exist`);
  return AppError.validation(path, `${path} must be Unicode text: it has a lone UTF-16 surrogate (a \\uD800–\\uDFFF escape without its pair)`);
}

function checkJson(raw: Buffer, body: unknown, surrogatesPass: boolean): AppError | null {
  if (nestedDeeperThan(raw)) return tooDeep();
  const problem = bodyProblem(body, '', surrogatesPass);
  return problem ? refusal(problem) : null;
}

function checkForm(raw: Buffer, body: Record<string, unknown>, surrogatesPass: boolean): AppError | null {
  // From the raw text: the parser drops a `__proto__` field silently instead of keeping it.
  for (const key of new URLSearchParams(raw.toString('utf8')).keys()) if (FORBIDDEN_KEYS.has(key)) return refusal({ path: key, kind: 'forbidden_key' });
  for (const [key, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string' || !looksLikeJson(item)) continue;
      if (nestedDeeperThan(item)) return tooDeep(key);
      let parsed: unknown;
      try {
        parsed = JSON.parse(item);
      } catch {
        continue; // not JSON after all: validation names the field
      }
      const problem = bodyProblem(parsed, key, surrogatesPass);
      if (problem) return refusal(problem);
    }
  }
  return null;
}
