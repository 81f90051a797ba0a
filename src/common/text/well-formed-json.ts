/** A lone UTF-16 surrogate can reach a parsed JSON text only through a `\uD800`–`\uDFFF` escape (UTF-8 has no form for it). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON.parse, with every string value made well-formed UTF-16 (a lone surrogate becomes U+FFFD). PostgreSQL refuses a
 * lone surrogate in json and jsonb, so a webhook carrying one (`"text": "\ud800"`) would fail every time it is
 * processed. Texts without a surrogate escape (most) are parsed as they are.
 */
export function parseWellFormedJson(text: string): unknown {
  if (!SURROGATE_ESCAPE.test(text)) return JSON.parse(text);
  return JSON.parse(text, (_key, value: unknown) => (typeof value === 'string' ? value.toWellFormed() : value));
}
