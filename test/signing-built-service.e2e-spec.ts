import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBuiltService } from './support/built-service.js';

describe('the built service signing key', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'testigo-signing-data-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('generates a trial CA into DATA_DIR/signing on first start, reuses it on the next, warns, and serves the chain', async () => {
    const first = await startBuiltService({ DATA_DIR: dataDir });
    let pem: string;
    try {
      expect(first.output()).toContain('Generated a TRIAL signing CA');
      expect(first.output()).toContain('for trials only');
      const keyFile = path.join(dataDir, 'signing', 'signing.key.pem');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(existsSync(path.join(dataDir, 'signing', 'ca.crt.pem'))).toBe(true);
      // Public: no API key.
      const res = await fetch(`${first.url}/v1/signing/certificates`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
      pem = await res.text();
      expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
      expect(pem.endsWith(readFileSync(path.join(dataDir, 'signing', 'ca.crt.pem'), 'utf8'))).toBe(true);
    } finally {
      await first.stop();
    }
    const second = await startBuiltService({ DATA_DIR: dataDir });
    try {
      expect(second.output()).toContain('Using the TRIAL signing CA');
      expect(second.output()).not.toContain('Generated a TRIAL');
      expect(await (await fetch(`${second.url}/v1/signing/certificates`)).text()).toBe(pem);
    } finally {
      await second.stop();
    }
  });

  it('refuses to start beside an external database with no signing key and no SIGNING_TRIAL', async () => {
    await expect(startBuiltService({ SIGNING_TRIAL: '' })).rejects.toThrow(/SIGNING_P12_PATH or SIGNING_P12_BASE64 .* is required when DATABASE_URL is set/);
  });
});
