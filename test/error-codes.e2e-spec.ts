import { readFileSync } from 'node:fs';
import '../src/app.module.js';
import { declaredErrorCodes } from '../src/common/errors/app-error.js';

describe('error codes', () => {
  it("are exactly the README's table: every declared code documented, nothing documented that is not declared", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Error codes'), readme.indexOf('\n## ', readme.indexOf('### Error codes')));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]).sort();
    expect(documented.length).toBeGreaterThan(20);
    expect(documented).toEqual(declaredErrorCodes());
  });
});
