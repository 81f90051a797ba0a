import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CommonModule } from './common/common.module.js';
import { AppConfig, ConfigError, loadConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions, runMigrations } from './database/data-source.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './database/embedded-postgres.js';
import { WhatsappModule } from './whatsapp/whatsapp.module.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { ApiKeysService } from './modules/tenants/api-keys.service.js';
import { TenantsModule } from './modules/tenants/tenants.module.js';
import { TenantsService } from './modules/tenants/tenants.service.js';

const USAGE = `Usage: npm run admin -- <command>
  create-tenant --name <name>                 creates a tenant and prints its id
  create-key --tenant <TNT…> [--name <name>]  creates an API key for the tenant and prints it (shown only now)
  list-tenants                                lists every tenant, newest first
Database: DATABASE_URL, or the embedded default in DATA_DIR (connected to if the service runs, else started).`;

class UsageError extends Error {}

/** The tenants module and what it needs, without HTTP, workers or crons: the services the admin API calls. */
@Module({})
class AdminCliModule {
  static forRoot(config: AppConfig, url: string): DynamicModule {
    return {
      module: AdminCliModule,
      imports: [
        ConfigModule.forRoot(config),
        TypeOrmModule.forRoot({ ...dataSourceOptions(url, 2), autoLoadEntities: true }),
        CommonModule,
        // The tenants controllers' routes are audited; the module must be there for them to resolve.
        AuditModule,
        WhatsappModule,
        TenantsModule,
      ],
    };
  }
}

/** The embedded default: the running service's server when it is up (one data dir, one server), else one started here. */
async function embeddedDatabase(config: AppConfig): Promise<{ url: string; started: EmbeddedDatabase | null }> {
  const url = `postgres://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/testigo`;
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await probe.connect();
    return { url, started: null };
  } catch {
    // Not running: start it for this command only.
  } finally {
    await probe.end().catch(() => undefined);
  }
  const started = await startEmbeddedPostgres({ dataDir: path.join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, database: 'testigo' });
  return { url: started.url, started };
}

async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) return out(USAGE);
  if (rest.length || !['create-tenant', 'create-key', 'list-tenants'].includes(command)) throw new UsageError(`Unknown command: ${positionals.join(' ')}`);
  if (command === 'create-tenant' && !values.name?.trim()) throw new UsageError('create-tenant needs --name <name>');
  if (command === 'create-key' && !values.tenant?.trim()) throw new UsageError('create-key needs --tenant <tenant id>');

  const config = loadConfig(process.env);
  const db = config.DATABASE_URL ? { url: config.DATABASE_URL, started: null } : await embeddedDatabase(config);
  try {
    await runMigrations(db.url);
    const app = await NestFactory.createApplicationContext(AdminCliModule.forRoot(config, db.url), { logger: ['error'] });
    try {
      const tenants = app.get(TenantsService);
      if (command === 'create-tenant') {
        const tenant = await tenants.create(values.name!.trim());
        out(`tenant id: ${tenant.id}`);
      } else if (command === 'create-key') {
        const tenant = await tenants.get(values.tenant!.trim());
        const { key, plaintext } = await app.get(ApiKeysService).create(tenant.id, values.name?.trim() || 'default');
        out(`tenant:  ${tenant.id} (${tenant.name})`);
        out(`key id:  ${key.id}`);
        out(`API key: ${plaintext}   (header Truora-API-Key; shown only now)`);
      } else {
        for (let cursor: string | undefined, first = true; first || cursor; first = false) {
          const page = await tenants.list({ limit: 100, cursor });
          for (const t of page.items) out(`${t.id}  ${t.createdAt.toISOString()}  ${t.name}`);
          cursor = page.next_cursor ?? undefined;
        }
      }
    } finally {
      await app.close();
    }
  } finally {
    await db.started?.stop();
  }
}

run(process.argv.slice(2), (line) => process.stdout.write(line + '\n')).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof UsageError ? `${err.message}\n\n${USAGE}` : err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    process.stderr.write(message + '\n');
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
