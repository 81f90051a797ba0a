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

/** The path (`steps[0].__proto__`) of the first forbidden key in a parsed body, or null. Walks without recursion. */
export function forbiddenKeyPath(value: unknown, base = ''): string | null {
  const stack: Array<{ v: unknown; path: string }> = [{ v: value, path: base }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ v: item, path: `${path}[${i}]` }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return child;
      stack.push({ v: (v as Record<string, unknown>)[key], path: child });
    }
  }
  return null;
}

const looksLikeJson = (s: string) => /^\s*[[{]/.test(s);

/**
 * Runs after the body parsers, before validation: a body nested deeper than MAX_JSON_DEPTH is 400 MALFORMED_BODY,
 * and a `__proto__`, `constructor` or `prototype` key anywhere is refused like an unknown field (400
 * VALIDATION_FAILED naming it). Form fields that carry JSON (`steps`, `settings`, `options`) are checked the same
 * way before anything parses them.
 */
export function bodyGuard(errors: AllExceptionsFilter): RequestHandler {
  return (req: RawBodyRequest, res, next) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || !req.rawBody) return next();
    const problem = req.is('application/x-www-form-urlencoded') ? checkForm(req.rawBody, body as Record<string, unknown>) : checkJson(req.rawBody, body);
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

function forbidden(path: string): AppError {
  return AppError.validation(path, `property ${path} should not exist`);
}

function checkJson(raw: Buffer, body: unknown): AppError | null {
  if (nestedDeeperThan(raw)) return tooDeep();
  const path = forbiddenKeyPath(body);
  return path ? forbidden(path) : null;
}

function checkForm(raw: Buffer, body: Record<string, unknown>): AppError | null {
  // From the raw text: the parser drops a `__proto__` field silently instead of keeping it.
  for (const key of new URLSearchParams(raw.toString('utf8')).keys()) if (FORBIDDEN_KEYS.has(key)) return forbidden(key);
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
      const path = forbiddenKeyPath(parsed, key);
      if (path) return forbidden(path);
    }
  }
  return null;
}
