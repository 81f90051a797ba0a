import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startBuiltService } from './support/built-service.js';
import { createTestDatabase } from './support/database.js';
import { freePort } from './support/free-port.js';
import { createTestApp, TestApp } from './support/test-app.js';

const CLI = path.resolve('dist/src/admin.js');

/** Runs the built admin command (as `npm run admin --` does) with only the given environment. */
async function admin(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH!, ...env }, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const keyOf = (stdout: string) => /API key: (\S+)/.exec(stdout)?.[1];
const tenantOf = (stdout: string) => /tenant id: (TNT\w+)/.exec(stdout)?.[1];

const reachable = async (url: string) => {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
};

describe('admin command (DATABASE_URL)', () => {
  let t: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    const db = await createTestDatabase();
    t = await createTestApp({ databaseUrl: db.url, env: { WORKERS_ENABLED: 'false' } });
    env = { DATABASE_URL: db.url };
  });
  afterAll(() => t.close());

  it('creates a tenant and an API key that the API accepts, and lists the tenants', async () => {
    const created = await admin(['create-tenant', '--name', 'Banco Uno'], env);
    expect(created.code).toBe(0);
    const tenantId = tenantOf(created.stdout)!;
    expect(tenantId).toMatch(/^TNT/);
    const key = await admin(['create-key', '--tenant', tenantId, '--name', 'lost-key'], env);
    expect(key.code).toBe(0);
    const apiKey = keyOf(key.stdout)!;
    expect(apiKey).toBeTruthy();
    await t.http.get('/v1/whatsapp/numbers').set('X-API-Key', apiKey).expect(200);
    const listed = await admin(['list-tenants'], env);
    expect(listed.stdout).toContain(`${tenantId}  `);
    expect(listed.stdout).toContain('Banco Uno');
  });

  it('refuses an unknown tenant, a missing argument and an unknown command, writing nothing', async () => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM api_keys`);
    const unknown = await admin(['create-key', '--tenant', 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C'], env);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C not found')]);
    const missing = await admin(['create-key'], env);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('--tenant')]);
    const bogus = await admin(['drop-everything'], env);
    expect([bogus.code, bogus.stderr]).toEqual([2, expect.stringContaining('Usage: npm run admin')]);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM api_keys`))[0].n).toBe(before[0].n);
  });
});

describe('admin command (embedded default)', () => {
  let dataDir: string;
  let port: number;
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'testigo-admin-'));
    // As root, PostgreSQL runs as the postgres user, which must reach the data dir inside.
    chmodSync(dataDir, 0o755);
    port = await freePort();
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts the embedded PostgreSQL for the command when the service is not running, and stops it after', async () => {
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) };
    const created = await admin(['create-tenant', '--name', 'Offline'], env);
    expect(created.code).toBe(0);
    expect(tenantOf(created.stdout)).toMatch(/^TNT/);
    expect(await reachable(`postgres://postgres:postgres@127.0.0.1:${port}/testigo`)).toBe(false);
    // The data stays: a second run sees the tenant.
    expect((await admin(['list-tenants'], env)).stdout).toContain('Offline');
  }, 120_000);

  it('uses the running service’s embedded PostgreSQL, and leaves it running', async () => {
    const service = await startBuiltService({ DATABASE_URL: '', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
    try {
      const tenant = await service.newTenant('Online');
      const key = await admin(['create-key', '--tenant', tenant.tenantId], { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) });
      expect(key.code).toBe(0);
      const res = await service.request('GET', '/v1/whatsapp/numbers', { headers: { 'X-API-Key': keyOf(key.stdout)! } });
      expect(res.status).toBe(200);
      expect((await service.request('GET', '/health')).status).toBe(200);
    } finally {
      await service.stop();
    }
  }, 120_000);
});
