import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppModule } from './app.module.js';
import { configureApp } from './app.setup.js';
import { AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { runMigrations } from './database/data-source.js';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres.js';
import { ApiKeysService } from './modules/tenants/api-keys.service.js';
import { seedDemoTenant } from './modules/tenants/demo.seed.js';
import { LinesService } from './modules/tenants/lines.service.js';
import { TenantsService } from './modules/tenants/tenants.service.js';

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

async function bootstrap(config: AppConfig): Promise<void> {
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.DATABASE_URL;
  let adminTokenCreated = false;
  if (!databaseUrl) {
    say(`Starting embedded PostgreSQL (data in ${path.join(config.DATA_DIR, 'postgres')})…`);
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.DATA_DIR, 'postgres'),
      port: config.EMBEDDED_PG_PORT,
      database: 'testigo',
    });
    // embedded-postgres installs its own signal handlers that stop the server at once; ours close the app first.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    databaseUrl = embedded.url;
    if (!config.ADMIN_TOKEN) {
      const admin = embeddedAdminToken(config.DATA_DIR);
      config.ADMIN_TOKEN = admin.token;
      adminTokenCreated = admin.created;
    }
  } else if (!config.ADMIN_TOKEN) {
    throw new ConfigError('Invalid environment:\n  ADMIN_TOKEN is required when DATABASE_URL is set');
  }

  await runMigrations(databaseUrl);
  const app = await NestFactory.create(AppModule.forRoot(config, databaseUrl), { bodyParser: false, bufferLogs: true });
  configureApp(app, config);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    say(`${signal} received: stopping…`);
    await app.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen(config.PORT);
  const base = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;

  if (embedded) {
    const demo = await seedDemoTenant(app.get(TenantsService), app.get(ApiKeysService), app.get(LinesService));
    if (demo) {
      say('');
      say('First start: created a demo tenant.');
      say(`  tenant id:      ${demo.tenantId}`);
      say(`  API key:        ${demo.apiKey}   (header Truora-API-Key; shown only now)`);
      say(`  sandbox line:   ${demo.linePhone}`);
    }
    say(adminTokenCreated ? `  admin token:    ${config.ADMIN_TOKEN}   (kept in ${path.join(config.DATA_DIR, 'admin-token')})` : `Admin token: in ${path.join(config.DATA_DIR, 'admin-token')}`);
  }
  say(`Testigo listening on ${base} — Swagger UI: ${base}/docs`);
}

let config: AppConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
bootstrap(config).catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
