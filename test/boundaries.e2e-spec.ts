import { spawnSync } from 'node:child_process';
import path from 'node:path';

const bin = (name: string) => path.resolve('node_modules/.bin', name);

/** The boundary rules of .dependency-cruiser.cjs (run by `npm run lint` in CI) bite: a fixture breaks each once. */
describe('module boundaries', () => {
  it("refuse a lower layer importing a higher one, a cycle, and another module's rows", () => {
    const run = spawnSync(bin('depcruise'), ['src', '--config', '../../../.dependency-cruiser.cjs'], { cwd: 'test/fixtures/boundaries', encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/error layer-common: src\/common\/low\.ts → src\/modules\/webhooks\/processor\.ts/);
    expect(run.stdout).toMatch(/error no-cycles: src\/modules\/flows\/a\.ts/);
    expect(run.stdout).toMatch(/error own-tables-only: src\/modules\/hooks\/reads-messages\.ts/);
    expect(run.stdout).toMatch(/3 dependency violations/);
  });

  it('hold for the service itself', () => {
    const run = spawnSync(bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs'], { encoding: 'utf8' });
    expect(run.stdout).toMatch(/no dependency violations found/);
    expect(run.status).toBe(0);
  });
});
