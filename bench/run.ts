import { readdirSync } from 'node:fs';

/**
 * `npm run bench` runs every `bench/*.bench.ts`; `npm run bench -- NAME` runs the ones whose name contains NAME.
 * Each benchmark starts its own embedded PostgreSQL and servers on 127.0.0.1 and prints its figures.
 */
const filter = process.argv[2] ?? '';
const dir = new URL('.', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js') && f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no benchmark matches "${filter}"`);
  process.exit(1);
}
for (const file of files) {
  console.log(`\n=== ${file.replace('.bench.js', '')} ===`);
  const mod = (await import(new URL(file, dir).href)) as { default: () => Promise<void> };
  await mod.default();
}
process.exit(0);
