/** A lone UTF-16 surrogate can reach a parsed JSON text only through a `\uD800`–`\uDFFF` escape (UTF-8 has no form for it). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON.parse, with every string and key made well-formed UTF-16 (a lone surrogate becomes U+FFFD). PostgreSQL refuses
 * a lone surrogate in json and jsonb, so a webhook carrying one (`"text": "\ud800"`) would fail every time it is
 * processed. Texts without a surrogate escape (most) are parsed as they are.
 */
export function parseWellFormedJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return SURROGATE_ESCAPE.test(text) ? wellFormed(value) : value;
}

function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed();
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toWellFormed(), wellFormed(v)]));
  return value;
}
