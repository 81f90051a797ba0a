import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  await globalThis.__TESTIGO_PG__?.stop();
  if (globalThis.__TESTIGO_DATA_DIR__) rmSync(globalThis.__TESTIGO_DATA_DIR__, { recursive: true, force: true });
}
