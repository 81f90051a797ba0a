import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { holdPort } from './common/http/startup-server.js';
import { closeGracefully } from './common/lifecycle/shutdown.js';
import { AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { SecretBox, SecretsKeyError } from './common/secrets/secret-box.js';
import { runMigrations } from './database/data-source.js';
import { resealSecrets } from './common/secrets/secrets-reseal.js';
import { EmbeddedDatabase, EmbeddedStartError, startEmbeddedPostgres } from './database/embedded-postgres.js';
import { CONSOLE_PATH } from './modules/console/console-assets.js';
import { ApiKeysService } from './modules/tenants/api-keys.service.js';
import { seedDemoTenant } from './modules/tenants/demo.seed.js';
import { LinesService } from './modules/tenants/lines.service.js';
import { TenantsService } from './modules/tenants/tenants.service.js';
import { WebhookInboxService } from './modules/webhooks/webhook-inbox.service.js';
import { WebhookProcessorService } from './modules/webhooks/webhook-processor.service.js';

const say = (line: string) => process.stdout.write(line + '\n');

/** The embedded default keeps a generated admin token beside its data, so it survives restarts. */
function embeddedAdminToken(dataDir: string): { token: string; created: boolean } {
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), created: false };
  const token = 'adm_' + randomBytes(24).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return { token, created: true };
}

/** Likewise the key that seals stored secrets: losing it loses every line's credentials and every hook's secret. */
function embeddedSecretsKey(dataDir: string): string {
  const file = path.join(dataDir, 'secrets-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = SecretBox.generateKey();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}

/**
 * Set in the environment of the processes the primary forks (PROCESSES > 1): the database is up and migrated.
 * `seed` marks the one that creates the demo tenant on a first embedded start.
 */
const CHILD = 'TESTIGO_CHILD';
/** Message from a serving process to the one running the workers (through the primary): webhook calls were stored. */
const STORED = 'webhook_events_stored';
/** How long the serving processes get to stop before they are killed: their own grace, and a little. */
const stopTimeoutMs = (config: AppConfig) => (config.SHUTDOWN_GRACE_SECONDS + 5) * 1000;

interface Database {
  url: string;
  embedded: EmbeddedDatabase | null;
  adminTokenCreated: boolean;
}

/** The embedded PostgreSQL (unless DATABASE_URL is set), the admin token, and the migrations. */
async function prepareDatabase(config: AppConfig): Promise<Database> {
  if (process.env[CHILD]) return { url: config.DATABASE_URL!, embedded: null, adminTokenCreated: false };
  let embedded: EmbeddedDatabase | null = null;
  let url = config.DATABASE_URL;
  let adminTokenCreated = false;
  if (!url) {
    say(`Starting embedded PostgreSQL (data in ${path.join(config.DATA_DIR, 'postgres')})…`);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.DATA_DIR, 'postgres'),
      port: config.EMBEDDED_PG_PORT,
      database: 'testigo',
      notice: say,
    });
    url = embedded.url;
    if (!config.ADMIN_TOKEN) {
      const admin = embeddedAdminToken(config.DATA_DIR);
      config.ADMIN_TOKEN = admin.token;
      adminTokenCreated = admin.created;
    }
    config.SECRETS_KEY ??= embeddedSecretsKey(config.DATA_DIR);
  } else if (!config.ADMIN_TOKEN) {
    throw new ConfigError('Invalid environment:\n  ADMIN_TOKEN is required when DATABASE_URL is set');
  } else if (!config.SECRETS_KEY) {
    throw new ConfigError(
      'Invalid environment:\n  SECRETS_KEY is required when DATABASE_URL is set (one or more 32-byte keys in base64, comma-separated; e.g. openssl rand -base64 32)',
    );
  } else if (!config.SIGNING_P12_PATH && !config.SIGNING_P12_BASE64 && !config.SIGNING_TRIAL) {
    throw new ConfigError(
      'Invalid environment:\n  SIGNING_P12_PATH or SIGNING_P12_BASE64 (with SIGNING_P12_PASSWORD) is required when DATABASE_URL is set (or SIGNING_TRIAL=true for a generated trial CA)',
    );
  } else if (config.FILE_STORE === 'local' && !config.FILES_DIR) {
    // Beside an external database, DATA_DIR is rarely kept (a container's is lost): files would outlive nothing.
    throw new ConfigError('Invalid environment:\n  FILES_DIR is required when DATABASE_URL is set and FILE_STORE=local (or set FILE_STORE=s3)');
  }
  try {
    await migrateAndSeal(url, config);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  return { url, embedded, adminTokenCreated };
}

async function migrateAndSeal(url: string, config: AppConfig): Promise<void> {
  await runMigrations(url);
  // After the migrations: secrets still in clear are sealed, and every sealed one must open with SECRETS_KEY (a wrong
  // key stops the start here, before anything is served).
  try {
    const { sealed } = await resealSecrets(url, new SecretBox(config.SECRETS_KEY!), { rotate: false });
    if (sealed > 0) say(`Sealed ${sealed} stored secrets that were in clear.`);
  } catch (err) {
    if (err instanceof SecretsKeyError) throw new ConfigError(`Invalid environment:\n  SECRETS_KEY: ${err.message}`);
    throw err;
  }
}

type Demo = Awaited<ReturnType<typeof seedDemoTenant>>;

/** One serving process: the API and the workers. Returns once it listens. */
async function serve(config: AppConfig, databaseUrl: string, seed: boolean, release?: () => Promise<void>): Promise<{ app: INestApplication; demo: Demo }> {
  const app = await NestFactory.create(AppModule.forRoot(config, databaseUrl), { bodyParser: false, bufferLogs: true }).catch(async (err: unknown) => {
    await release?.();
    throw err;
  });
  configureApp(app, config);
  // The port is held (503 STARTING) until this moment: building the app can take seconds on a busy machine.
  await release?.();
  await app.listen(config.PORT);
  const demo = seed ? await seedDemoTenant(app.get(TenantsService), app.get(ApiKeysService), app.get(LinesService)) : null;
  return { app, demo };
}

function banner(config: AppConfig, db: Database, demo: Demo, processes: number): void {
  const base = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;
  if (db.embedded) {
    if (demo) {
      say('');
      say('First start: created a demo tenant.');
      say(`  tenant id:      ${demo.tenantId}`);
      say(`  API key:        ${demo.apiKey}   (header Truora-API-Key; shown only now)`);
      say(`  sandbox line:   ${demo.linePhone}`);
    }
    say(
      db.adminTokenCreated
        ? `  admin token:    ${config.ADMIN_TOKEN}   (kept in ${path.join(config.DATA_DIR, 'admin-token')})`
        : `Admin token: in ${path.join(config.DATA_DIR, 'admin-token')}`,
    );
  }
  say(`Testigo listening on ${base}${processes > 1 ? ` (${processes} processes)` : ''} — Swagger UI: ${base}/docs`);
  say(`Console: ${base}${CONSOLE_PATH}/`);
}

/**
 * SIGINT/SIGTERM are ours from the first moment (a signal with no listener would kill the process and leave the
 * embedded PostgreSQL running): one that comes while the service starts is kept, the start step under way finishes,
 * and what was started is stopped; once `started` hands over the stop, a signal runs it once, then the process exits.
 */
class Signals {
  private signal: string | null = null;
  private stop: ((signal: string) => Promise<void>) | null = null;
  private stopping = false;

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => this.received(signal));
  }

  /** The signal received while starting, if any: the caller stops what it started and returns. */
  get pending(): string | null {
    return this.signal;
  }

  /** The service is up: a signal from now on (or the one kept while starting) runs `stop`, then the process exits. */
  started(stop: (signal: string) => Promise<void>): void {
    this.stop = stop;
    if (this.signal) this.run(this.signal);
  }

  private received(signal: string): void {
    if (this.signal) return;
    this.signal = signal;
    if (this.stop) this.run(signal);
    else say(`${signal} received while starting: stopping once the step under way ends…`);
  }

  private run(signal: string): void {
    if (this.stopping) return;
    this.stopping = true;
    void this.stop!(signal).finally(() => process.exit(0));
  }
}

/** Stops the embedded PostgreSQL (if any), saying so. */
async function stopDatabase(db: Database): Promise<void> {
  if (!db.embedded) return;
  await db.embedded.stop();
  say('Embedded PostgreSQL stopped.');
}

async function bootstrap(config: AppConfig): Promise<void> {
  const signals = new Signals();
  // While the database starts and migrates, the port answers 503 (readiness) instead of refusing connections.
  const holding = process.env[CHILD] ? null : await holdPort(config.PORT);
  const db = await prepareDatabase(config).catch(async (err: unknown) => {
    await holding?.close();
    throw err;
  });
  if (signals.pending || (cluster.isPrimary && config.PROCESSES > 1)) await holding?.close();
  if (signals.pending) {
    await stopDatabase(db);
    process.exit(0);
  }
  if (cluster.isPrimary && config.PROCESSES > 1) return primary(config, db, signals);
  if (process.env[CHILD]) {
    // A forked process: the primary owns the database and prints the banner.
    const { app, demo } = await serve(config, db.url, process.env[CHILD] === 'seed');
    signals.started(() => closeGracefully(app, config.SHUTDOWN_GRACE_SECONDS).then(() => undefined));
    // Webhook calls stored here are processed by the process that runs the workers: it is told at once.
    if (config.WORKERS_ENABLED) process.on('message', (m: { type?: string }) => m?.type === STORED && app.get(WebhookProcessorService).wake());
    else app.get(WebhookInboxService).onStored(() => process.connected && process.send?.({ type: STORED }, undefined, {}, () => undefined));
    process.send?.({ type: 'ready', demo });
    return;
  }
  const { app, demo } = await serve(config, db.url, !!db.embedded, () => holding?.close() ?? Promise.resolve()).catch(async (err: unknown) => {
    await stopDatabase(db);
    throw err;
  });
  banner(config, db, demo, 1);
  signals.started(async (signal) => {
    say(`${signal} received: stopping…`);
    if (!(await closeGracefully(app, config.SHUTDOWN_GRACE_SECONDS)))
      say(`Stopped after SHUTDOWN_GRACE_SECONDS (${config.SHUTDOWN_GRACE_SECONDS}); requests still running were cut.`);
    await stopDatabase(db);
  });
}

/**
 * PROCESSES > 1: this process keeps the database (embedded or not) and forks that many serving processes, which
 * share the port. The first also runs the workers (unless WORKERS_ENABLED=false): one send queue and one webhook
 * processor per instance batch best, and the others only serve HTTP. One that dies is replaced; on SIGINT/SIGTERM
 * all are stopped, then the embedded PostgreSQL.
 */
async function primary(config: AppConfig, db: Database, signals: Signals): Promise<void> {
  const env = { DATABASE_URL: db.url, ADMIN_TOKEN: config.ADMIN_TOKEN, SECRETS_KEY: config.SECRETS_KEY, ALLOW_LOCAL_URLS: String(config.allowLocalUrls) };
  let stopping = false;
  let workerProcess: Worker | null = null;
  const send = (child: Worker | null, message: object) => {
    if (child?.isConnected()) child.send(message, undefined, () => undefined);
  };
  const stopAll = async () => {
    stopping = true;
    const children = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    await Promise.all(
      children.map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => w.process.kill('SIGKILL'), stopTimeoutMs(config));
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            w.process.kill('SIGTERM');
          }),
      ),
    );
    await stopDatabase(db);
  };
  /** Resolves when the process serves; one that dies later is replaced, one that never started stops everything. */
  const fork = (first: boolean) =>
    new Promise<Demo>((resolve, reject) => {
      const child = cluster.fork({
        ...env,
        [CHILD]: first && db.embedded ? 'seed' : '1',
        WORKERS_ENABLED: String(first && config.WORKERS_ENABLED),
      });
      child.on('error', () => undefined); // a message to a process that just died; its exit is handled below
      if (first) workerProcess = child;
      let ready = false;
      child.on('message', (m: { type?: string; demo?: Demo }) => {
        if (m?.type === STORED) send(workerProcess, m);
        if (m?.type === 'ready') {
          ready = true;
          resolve(m.demo ?? null);
        }
      });
      child.on('exit', (code, signal) => {
        if (workerProcess === child) workerProcess = null;
        if (stopping) return;
        if (!ready) return reject(new Error(`a serving process exited while starting (${signal ?? `exit code ${code}`})`));
        process.stderr.write(`serving process ${child.process.pid} exited (${signal ?? code}); starting another\n`);
        replace(first, 1000);
      });
    });
  /** A replacement that fails to start is tried again, later each time (at most every 30 s). */
  const replace = (first: boolean, delayMs: number) =>
    setTimeout(() => {
      if (stopping) return;
      fork(first).catch((err: unknown) => {
        process.stderr.write(`${(err as Error).message}; trying again in ${Math.min(delayMs * 2, 30_000) / 1000} s\n`);
        replace(first, Math.min(delayMs * 2, 30_000));
      });
    }, delayMs);
  let demos: Demo[];
  try {
    demos = await Promise.all(Array.from({ length: config.PROCESSES }, (_, i) => fork(i === 0)));
  } catch (err) {
    await stopAll();
    throw err;
  }
  banner(config, db, demos.find(Boolean) ?? null, config.PROCESSES);
  signals.started(async (signal) => {
    say(`${signal} received: stopping…`);
    await stopAll();
  });
}

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
bootstrap(config).catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof EmbeddedStartError;
  process.stderr.write(`${known ? err.message : err instanceof Error ? (err.stack ?? err.message) : `start failed: ${String(err)}`}\n`);
  process.exit(1);
});
