import { readFileSync } from 'node:fs';
import '../src/app.module.js';
import { declaredErrorCodes } from '../src/common/errors/app-error.js';

describe('error codes', () => {
  it('are exactly the table of docs/troubleshooting.md: every declared code documented, nothing documented that is not declared', () => {
    const guide = readFileSync(new URL('../docs/troubleshooting.md', import.meta.url), 'utf8');
    const start = guide.indexOf('\n## Error codes\n');
    expect(start).toBeGreaterThan(-1);
    const end = guide.indexOf('\n## ', start + 1);
    const section = guide.slice(start, end === -1 ? undefined : end);
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \| \d{3} \|/gm)].map((m) => m[1]).sort();
    expect(documented.length).toBeGreaterThan(20);
    expect(documented).toEqual(declaredErrorCodes());
  });
});
