import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SecretBox } from './common/secrets/secret-box.js';
import { loadConfig } from './config/app-config.js';
import { runMigrations } from './database/data-source.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './database/embedded-postgres.js';
import { resealSecrets } from './common/secrets/secrets-reseal.js';

/**
 * `npm run secrets:rotate`: re-seals every stored secret with the first key of SECRETS_KEY. Rotation: put the new key
 * first (`SECRETS_KEY=new,old`) on every instance, run this once, then drop the old key. Safe to run while instances
 * serve (one transaction; what they cache is the opened values, which do not change). With no DATABASE_URL it opens
 * the embedded database (stop the service first: it holds that database's port).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  let embedded: EmbeddedDatabase | null = null;
  let url = config.DATABASE_URL;
  let key = config.SECRETS_KEY;
  if (!url) {
    const file = path.join(config.DATA_DIR, 'secrets-key');
    key ??= existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
    embedded = await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, database: 'testigo' });
    url = embedded.url;
  }
  if (!key) throw new Error('SECRETS_KEY is not set');
  try {
    await runMigrations(url);
    const box = new SecretBox(key);
    const { sealed, rows } = await resealSecrets(url, box, { rotate: true });
    process.stdout.write(`Re-sealed ${sealed} secrets in ${rows} rows with key ${box.currentKeyId}.\n`);
  } finally {
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
