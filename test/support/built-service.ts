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
  /** JSON request; resolves with the status and the parsed body (null when none); gives up after 30 s. */
  request(
    method: string,
    pathname: string,
    options?: { body?: unknown; headers?: Record<string, string>; raw?: string | Buffer },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** The built service as a child process on the environment given (nothing else added), not yet waited for. */
export interface ServiceProcess {
  /** e.g. `http://127.0.0.1:40123` */
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** JSON request; resolves with the status and the parsed body (null when none). */
  request: BuiltService['request'];
  /** Resolves once `pathname` answers 200 (default /health/ready); rejects when the process exits first or after `ms`. */
  waitUntilUp(pathname?: string, ms?: number): Promise<void>;
}

/**
 * `detached`: the process leads a process group of its own, so a test can signal the group the way a terminal's
 * Ctrl-C does (`process.kill(-pid, 'SIGINT')`).
 */
export async function spawnBuiltService(env: Record<string, string>, options: { detached?: boolean; port?: number } = {}): Promise<ServiceProcess> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build (npm test does it first)`);
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [ENTRY], {
    // A trial signing key (shared by the tests' processes) unless the test gives its own DATA_DIR or key.
    env: { PATH: process.env.PATH, PORT: String(port), LOG_LEVEL: 'warn', DATA_DIR: testDataDir(), SIGNING_TRIAL: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const request: BuiltService['request'] = async (method, pathname, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | Buffer | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(url + pathname, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  const waitUntilUp = async (pathname = '/health/ready', ms = 30_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the built service exited at start:\n${output}`);
      const up = await fetch(url + pathname, { signal: AbortSignal.timeout(5000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline) throw new Error(`the built service did not answer ${pathname} within ${ms / 1000} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { url, port, child, exited, output: () => output, request, waitUntilUp };
}

/**
 * The built service (`dist/`, as `npm start` runs it) as a child process on its own test database: the tests that
 * prove a capability works outside Jest's module loader. `npm test` builds first (the `pretest` script).
 */
export async function startBuiltService(env: Record<string, string> = {}): Promise<BuiltService> {
  const database = await createTestDatabase();
  const filesDir = env.FILES_DIR ?? mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
  const service = await spawnBuiltService({
    DATABASE_URL: database.url,
    ADMIN_TOKEN,
    SECRETS_KEY: TEST_SECRETS_KEY,
    ALLOW_LOCAL_URLS: 'true',
    FILES_DIR: filesDir,
    DATA_DIR: testDataDir(),
    SIGNING_TRIAL: 'true',
    ...env,
  });
  const { child, url, request, exited } = service;
  try {
    await service.waitUntilUp();
  } catch (err) {
    child.kill('SIGKILL');
    await database.drop();
    throw err;
  }

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  return {
    url,
    child,
    databaseUrl: database.url,
    filesDir,
    output: service.output,
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
