/**
 * Linear-time trimming. A regex anchored only at the end (`/\/+$/`, `/[…]+$/u`) is retried from every position, so a
 * long run of the trimmed characters that does not reach the end costs quadratic time: 64 KB of `a!!!…!a` took
 * 2.3 s. These walk from each end instead.
 */

/** `text` without `char` repeated at its end (`https://x//` → `https://x`). */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return text.slice(0, end);
}

/** `text` without the code points that `strip` matches (a one-character test, e.g. `/[\p{P}\s]/u`) at either end. */
export function trimWhere(text: string, strip: RegExp): string {
  let start = 0;
  let end = text.length;
  while (start < end) {
    const cp = text.codePointAt(start)!;
    const ch = String.fromCodePoint(cp);
    if (!strip.test(ch)) break;
    start += ch.length;
  }
  while (end > start) {
    // A code point ending at `end` is two UTF-16 units when they form a surrogate pair.
    const low = text.charCodeAt(end - 1);
    const size = low >= 0xdc00 && low <= 0xdfff && end - 2 >= start && isHighSurrogate(text.charCodeAt(end - 2)) ? 2 : 1;
    if (!strip.test(text.slice(end - size, end))) break;
    end -= size;
  }
  return text.slice(start, end);
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
