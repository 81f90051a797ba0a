import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { freePort } from './free-port.js';

export interface OwnPostgres {
  /** URL of the database `testigo` on it. */
  url: string;
  /** Stops the server (fast shutdown: open connections are cut), keeping its data. */
  stop(): Promise<void>;
  /** Stops it as a crash would (immediate shutdown): the next start runs crash recovery, which empties unlogged tables. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL of a test's own (not the suite's shared one), which the test can stop and start: a database that goes
 * away under the service.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const parent = mkdtempSync(path.join(tmpdir(), 'testigo-pg-'));
  chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its data dir
  const port = await freePort();
  const open = () => startEmbeddedPostgres({ dataDir: path.join(parent, 'pg'), port, database: 'testigo' });
  let server: EmbeddedDatabase | null = await open();
  const url = server.url;
  return {
    url,
    async stop() {
      await server?.stop();
      server = null;
    },
    async crash() {
      await server?.stop('immediate');
      server = null;
    },
    async start() {
      server ??= await open();
    },
    async destroy() {
      await server?.stop();
      server = null;
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
