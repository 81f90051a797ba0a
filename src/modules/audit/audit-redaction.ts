/** What a redacted value reads in the audit log: that it was set, never what to. */
export const REDACTED = '[REDACTED]';

/**
 * Field names that hold secrets, wherever they sit in a body: a line's `access_token`, `app_secret`, `verify_token`
 * and BSP `api_key`, hook `secret`s, webhook tokens, and the credentials of providers to come (`auth_token`,
 * `password`, `private_key`…). Matched by name so a new secret field is redacted without a change here.
 */
const SECRET_FIELD = /secret|token|passw(or)?d|passphrase|credential|api_?key|private_?key|^key$|^auth(orization)?$|^auth_/i;

/** Secrets of ours that may turn up in any text: API keys, hook secrets, BSP webhook tokens, admin tokens. */
const SECRET_VALUE = /\b(?:tgk|whsec|bwt|adm)_[A-Za-z0-9_+/=-]{8,}/g;

/** The stored summary of one change stays small: bigger bodies keep only their field names. */
export const MAX_CHANGES_BYTES = 64 * 1024;

function redactString(s: string, depth: number): unknown {
  const trimmed = s.trimStart();
  // Form bodies carry JSON in fields (`steps`, `settings`): redacted inside like a JSON body.
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && depth < 40) {
    try {
      return redactValue(JSON.parse(s), depth + 1);
    } catch {
      // Not JSON: treated as text.
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    try {
      const url = new URL(s);
      if (url.username || url.password) url.username = url.password = 'REDACTED';
      for (const name of [...url.searchParams.keys()]) if (SECRET_FIELD.test(name)) url.searchParams.set(name, 'REDACTED');
      s = url.toString();
    } catch {
      // Not a URL after all.
    }
  }
  return s.replace(SECRET_VALUE, REDACTED);
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactString(value, depth);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) && v !== null && v !== undefined ? REDACTED : redactValue(v, depth + 1);
    return out;
  }
  return value;
}

/**
 * A request body as the audit log keeps it: every secret field replaced by `[REDACTED]`, secrets of ours found in
 * text replaced too, URLs without credentials; a body over MAX_CHANGES_BYTES reduced to its field names.
 */
export function auditChanges(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const redacted = redactValue(body, 0) as Record<string, unknown>;
  if (Buffer.byteLength(JSON.stringify(redacted)) <= MAX_CHANGES_BYTES) return redacted;
  return { truncated: true, fields: Object.keys(redacted) };
}
