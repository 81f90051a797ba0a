import pg from 'pg';
import { SecretBox } from './secret-box.js';

/**
 * Every column that holds a secret, by table: what is sealed (AES-256-GCM under SECRETS_KEY) and what keeps a keyed
 * hash for lookups. Kept here, beside the migrations, because this pass reads and rewrites the stored form of several
 * modules' tables as a migration would; the entities' transformers (sealedText, sealedJsonFields) are the same rules.
 */
const TEXT_COLUMNS: Array<{ table: string; columns: string[] }> = [{ table: 'hooks', columns: ['secret', 'previous_secret'] }];
const JSON_COLUMNS: Array<{ table: string; column: string; fields: string[]; lookup: string[] }> = [
  { table: 'whatsapp_lines', column: 'secrets', fields: ['access_token', 'app_secret', 'verify_token', 'api_key'], lookup: ['verify_token'] },
  { table: 'tenants', column: 'sms', fields: ['auth_token'], lookup: [] },
];

export interface ResealResult {
  /** Values that were sealed or re-sealed. */
  sealed: number;
  /** Rows rewritten. */
  rows: number;
}

/**
 * Opens every stored secret (a wrong or missing key fails here, at start, naming the key id) and seals what needs it:
 * values still in clear (stored before sealing began), and with `rotate` every value not sealed by the first key of
 * SECRETS_KEY. Runs at start after the migrations (the key is not the migrations' to hold) and as `npm run
 * secrets:rotate`. One transaction: a failure leaves everything as it was.
 */
export async function resealSecrets(url: string, box: SecretBox, options: { rotate: boolean }): Promise<ResealResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'testigo-secrets' });
  await client.connect();
  const stale = (v: string) => !SecretBox.isSealed(v) || (options.rotate && SecretBox.keyIdOf(v) !== box.currentKeyId);
  const result: ResealResult = { sealed: 0, rows: 0 };
  try {
    await client.query('BEGIN');
    for (const { table, columns } of TEXT_COLUMNS) {
      const { rows } = await client.query<Record<string, string | null>>(`SELECT id, ${columns.join(', ')} FROM ${table} FOR UPDATE`);
      for (const row of rows) {
        const changed: Record<string, string> = {};
        for (const c of columns) {
          const v = row[c];
          if (v == null) continue;
          const clear = box.open(v);
          if (stale(v)) changed[c] = box.seal(clear);
        }
        const names = Object.keys(changed);
        if (names.length === 0) continue;
        await client.query(`UPDATE ${table} SET ${names.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [row.id, ...names.map((c) => changed[c])]);
        result.sealed += names.length;
        result.rows++;
      }
    }
    for (const { table, column, fields, lookup } of JSON_COLUMNS) {
      const { rows } = await client.query<{ id: string; value: Record<string, unknown> | null }>(`SELECT id, ${column} AS value FROM ${table} FOR UPDATE`);
      for (const row of rows) {
        const value = { ...(row.value ?? {}) };
        let count = 0;
        for (const f of fields) {
          const v = value[f];
          if (typeof v !== 'string') continue;
          const clear = box.open(v);
          const hash = box.lookupHash(clear);
          if (stale(v)) {
            value[f] = box.seal(clear);
            count++;
          }
          if (lookup.includes(f) && value[`${f}_hmac`] !== hash) {
            value[`${f}_hmac`] = hash;
            count = Math.max(count, 1);
          }
        }
        if (count === 0) continue;
        await client.query(`UPDATE ${table} SET ${column} = $2 WHERE id = $1`, [row.id, JSON.stringify(value)]);
        result.sealed += count;
        result.rows++;
      }
    }
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
