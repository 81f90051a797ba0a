/**
 * Free text → one of a choice step's options. Users type "si", "SÍ ", "Sí!" for a button titled "Sí": comparison
 * ignores case, accents (NFD, combining marks removed), surrounding punctuation and repeated spaces.
 */
import { foldText } from '../../../common/text/fold.js';
import { trimWhere } from '../../../common/text/trim.js';

export interface MatchableOption {
  id: string;
  title: string;
}

/** Punctuation, symbols and spaces, which do not count at either end of an answer. */
const EDGE = /^[\p{P}\p{S}\s]$/u;

/** The comparable form of a text: no accents, lower case, single spaces, no punctuation at either end. Linear time. */
export function normalizeForMatch(text: string): string {
  return trimWhere(foldText(text), EDGE);
}

/**
 * The option whose id equals the text (interactive replies carry the id), else whose title matches it, else whose
 * id matches it loosely; null when none does.
 */
export function matchOption<T extends MatchableOption>(text: string, options: readonly T[]): T | null {
  if (typeof text !== 'string') return null;
  const exact = options.find((o) => o.id === text.trim());
  if (exact) return exact;
  const wanted = normalizeForMatch(text);
  if (wanted === '') return null;
  return options.find((o) => normalizeForMatch(o.title) === wanted) ?? options.find((o) => normalizeForMatch(o.id) === wanted) ?? null;
}
