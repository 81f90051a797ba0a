import type { ValueTransformer } from 'typeorm';
import { SecretBox, secretBox } from './secret-box.js';

/** Suffix of the keyed hash kept beside a value that is looked up by value (see SecretBox.lookupHashes). */
export const LOOKUP_SUFFIX = '_hmac';

/**
 * A text column sealed at rest: entities hold the clear value, the database only the sealed one. Opening happens when
 * a row is read, so whatever caches entities (the lines' LookupCache) holds clear values and pays for it once.
 */
export const sealedText: ValueTransformer = {
  to: (value: unknown) => (typeof value === 'string' && !SecretBox.isSealed(value) ? secretBox().seal(value) : value),
  from: (value: unknown) => (typeof value === 'string' ? secretBox().open(value) : value),
};

/**
 * A jsonb object some of whose fields are sealed; `lookup` fields also keep a keyed hash (`<field>_hmac`) so they can
 * be matched by value without being stored in clear. Other fields pass unchanged.
 */
export function sealedJsonFields(fields: readonly string[], lookup: readonly string[] = []): ValueTransformer {
  return {
    to(value: unknown) {
      if (!value || typeof value !== 'object') return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const f of lookup) delete out[f + LOOKUP_SUFFIX];
      for (const f of fields) {
        const v = out[f];
        if (typeof v !== 'string') continue;
        const clear = secretBox().open(v);
        if (lookup.includes(f)) out[f + LOOKUP_SUFFIX] = secretBox().lookupHash(clear);
        if (!SecretBox.isSealed(v)) out[f] = secretBox().seal(v);
      }
      return out;
    },
    from(value: unknown) {
      if (!value || typeof value !== 'object') return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const f of lookup) delete out[f + LOOKUP_SUFFIX];
      for (const f of fields) if (typeof out[f] === 'string') out[f] = secretBox().open(out[f] as string);
      return out;
    },
  };
}
