/**
 * Tenant-supplied patterns (`regex` validators) run on RE2JS, a linear-time engine (RE2 semantics, pure JavaScript):
 * JavaScript's backtracking engine takes exponential time on patterns such as `(a+)+b`, and one answer would block
 * the event loop of every tenant. RE2 refuses backreferences and lookaround; such patterns are refused when a flow
 * is saved, and fail closed (`unsupported_pattern`) in a flow stored before this check.
 *
 * Linear is not yet cheap: matching costs about (program size × answer length), so programs are capped and a
 * pattern's answers are capped at `MATCH_BUDGET / programSize` characters (`too_long` past it). With the figures
 * below, the worst match measured by `npm run bench -- validators` stays in the low milliseconds.
 */
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';

/** Instructions of a compiled pattern (`a{1000}` alone is about 1,000). */
export const MAX_PROGRAM_SIZE = 2000;
/** Program size × answer length allowed for one match. */
export const MATCH_BUDGET = 400_000;

const FLAG_BITS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always matches whole code points: `u` changes nothing.
  u: 0,
};

export type CompiledPattern = { ok: true; re: RE2JS; maxInput: number } | { ok: false; reason: string };

const cache = new LRUCache<string, CompiledPattern>({ max: 1000 });

/** The pattern compiled with its flags (`i`, `m`, `s`, `u`), or why it cannot run here. Cached. */
export function compilePattern(pattern: string, flags = ''): CompiledPattern {
  const key = `${flags}/${pattern}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compile(pattern, flags);
    cache.set(key, compiled);
  }
  return compiled;
}

function compile(pattern: string, flags: string): CompiledPattern {
  let bits = 0;
  for (const f of flags) {
    if (!Object.hasOwn(FLAG_BITS, f)) return { ok: false, reason: `flag ${f} is not supported (use i, m, s, u)` };
    bits |= FLAG_BITS[f];
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, bits);
  } catch (err) {
    // e.g. "invalid or unsupported Perl syntax: `(?=`", "invalid escape sequence: `\1`".
    return { ok: false, reason: String((err as Error).message).replace(/^error parsing regexp: /, '') };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE) return { ok: false, reason: `pattern is too large (${size} instructions compiled, at most ${MAX_PROGRAM_SIZE}): use smaller repeat counts` };
  return { ok: true, re, maxInput: Math.floor(MATCH_BUDGET / Math.max(1, size)) };
}

/**
 * Why a pattern is refused when a flow is saved, or null: RE2 must run it, and it must not repeat a group that itself
 * repeats without bound (`(a+)+`, `(\w+\s?)*`). RE2 runs those in linear time too, but they are what freezes a
 * backtracking engine, and a flow's patterns travel (a client validating in a form, a browser previewing the flow).
 * This is the star-height rule of tools such as safe-regex; a bounded inner repetition (`([a-z]{1,50},)*`) passes.
 */
export function patternProblem(pattern: string, flags = ''): string | null {
  const compiled = compilePattern(pattern, flags);
  if (!compiled.ok) return compiled.reason;
  return nestedRepetition(pattern);
}

/** Finds a repeated group that contains an unbounded repetition, in a pattern RE2 has already parsed. */
export function nestedRepetition(pattern: string): string | null {
  const outer: boolean[] = [];
  let unbounded = false; // an unbounded repetition so far in the current group
  let lastGroup: { unbounded: boolean; start: number } | null = null; // the atom just read, when it is a group
  const starts: number[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        i = end === -1 ? pattern.length : end + 2;
      } else if ('pPx'.includes(next) && pattern[i + 2] === '{') i = pattern.indexOf('}', i) + 1;
      else i += 2;
      lastGroup = null;
    } else if (c === '[') {
      i += pattern[i + 1] === '^' ? 2 : 1;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') i += 2;
        else if (pattern.startsWith('[:', i)) i = pattern.indexOf(':]', i) + 2;
        else i++;
      }
      i++;
      lastGroup = null;
    } else if (c === '(') {
      const start = i++;
      if (pattern[i] === '?') {
        i++;
        while (/[a-zA-Z-]/.test(pattern[i] ?? '') && pattern[i] !== 'P') i++;
        if (pattern[i] === ')') {
          i++; // flags only, e.g. (?i): not a group
          continue;
        }
        if (pattern[i] === ':') i++;
        else i = pattern.indexOf('>', i) + 1; // (?P<name> or (?<name>
      }
      outer.push(unbounded);
      starts.push(start);
      unbounded = false;
      lastGroup = null;
    } else if (c === ')') {
      lastGroup = { unbounded, start: starts.pop()! };
      unbounded = outer.pop()! || unbounded;
      i++;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i, i + 12)))) {
      let repeats: boolean;
      let endless: boolean;
      if (c === '{') {
        const [, min, comma, max] = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 12))!;
        endless = comma !== undefined && max === '';
        repeats = endless || Number(max ?? min) >= 2;
        i = pattern.indexOf('}', i) + 1;
      } else {
        endless = c !== '?';
        repeats = endless;
        i++;
      }
      if (pattern[i] === '?') i++; // lazy
      if (repeats && lastGroup?.unbounded) {
        return `nested repetition: the group at position ${lastGroup.start} repeats and contains an unbounded repetition (as in (a+)+); bound the inner one (e.g. ([a-z]{1,50},)* instead of ([a-z]+,)*) or drop the nesting ((a+)+ matches what a+ does)`;
      }
      if (endless) unbounded = true;
      lastGroup = null;
    } else {
      i++;
      lastGroup = null;
    }
  }
  return null;
}
