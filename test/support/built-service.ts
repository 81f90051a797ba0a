import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase } from './database.js';
import { freePort } from './free-port.js';
import { ADMIN_TOKEN, TEST_SECRETS_KEY, testDataDir } from './test-app.js';

const ENTRY = path.resolve('dist/src/main.js');

export interface BuiltService {
  /** e.g. `http://127.0.0.1:40123` */
  url: string;
  child: ChildProcess;
  databaseUrl: string;
  /** FILES_DIR of the process (its local FileStore). */
  filesDir: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Creates a tenant with an API key through the admin API. */
  newTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
  /** JSON request; resolves with the status and the parsed body (null when none). */
  request(
    method: string,
    pathname: string,
    options?: { body?: unknown; headers?: Record<string, string>; raw?: string | Buffer },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * The built service (`dist/`, as `npm start` runs it) as a child process on its own test database: the tests that
 * prove a capability works outside Jest's module loader. `npm test` builds first (the `pretest` script).
 */
export async function startBuiltService(env: Record<string, string> = {}): Promise<BuiltService> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build (npm test does it first)`);
  const database = await createTestDatabase();
  const port = await freePort();
  const filesDir = env.FILES_DIR ?? mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
  const child = spawn(process.execPath, [ENTRY], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      SECRETS_KEY: TEST_SECRETS_KEY,
      LOG_LEVEL: 'warn',
      ALLOW_LOCAL_URLS: 'true',
      FILES_DIR: filesDir,
      DATA_DIR: testDataDir(),
      SIGNING_TRIAL: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const request: BuiltService['request'] = async (method, pathname, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined = options.raw;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(url + pathname, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await database.drop();
      throw new Error(`the built service exited at start:\n${output}`);
    }
    const up = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the built service did not answer /health within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  return {
    url,
    child,
    databaseUrl: database.url,
    filesDir,
    output: () => output,
    request,
    async newTenant(name = 'Acme') {
      const tenant = await request('POST', '/v1/admin/tenants', { body: { name }, headers: admin });
      const key = await request('POST', `/v1/admin/tenants/${tenant.body.id}/api-keys`, { body: { name: 'test' }, headers: admin });
      if (tenant.status !== 201 || key.status !== 201) throw new Error(`could not create a tenant: ${JSON.stringify([tenant.body, key.body])}`);
      return { tenantId: tenant.body.id as string, apiKey: key.body.key as string };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await database.drop();
      if (!env.FILES_DIR) rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
