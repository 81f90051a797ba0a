export default async function globalTeardown() {
  await globalThis.__TESTIGO_PG__?.stop();
}
