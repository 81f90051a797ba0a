import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { Clock } from '../../src/common/clock/clock.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { createTestDatabase } from './database.js';
import { FakeClock } from './fake-clock.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** 32 bytes in base64: the tests' SECRETS_KEY. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  db: DataSource;
  clock: FakeClock;
  config: AppConfig;
  databaseUrl: string;
  /** Creates a tenant with an API key (through the admin API). */
  newTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Share another test app's database (to run two instances against one database). */
  databaseUrl?: string;
  clock?: FakeClock;
  /** Providers to replace, e.g. a boundary such as the hooks' HostResolver. */
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
  /** More modules beside the app's (e.g. one that registers a step type). */
  imports?: Array<Type | DynamicModule>;
}

/** The run's DATA_DIR (made by the global setup; a folder of this process's own when a spec runs without it). */
export function testDataDir(): string {
  process.env.TEST_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), 'testigo-data-'));
  return process.env.TEST_DATA_DIR;
}

/** The real HTTP app on a real (per-suite) PostgreSQL database, with an injected clock. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await createTestDatabase();
  // Each app keeps its stored files in a folder of its own, removed on close.
  const filesDir = mkdtempSync(path.join(tmpdir(), 'testigo-files-'));
  const config = loadConfig({
    FILES_DIR: filesDir,
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN,
    SECRETS_KEY: TEST_SECRETS_KEY,
    DATABASE_URL: database.url,
    ALLOW_LOCAL_URLS: 'true',
    // The trial signing CA, generated once for the run into the shared DATA_DIR (test/support/global-setup.mjs).
    DATA_DIR: testDataDir(),
    SIGNING_TRIAL: 'true',
    // The clock is frozen unless a test moves it, so buckets never refill: suites that test limits set their own.
    RATE_LIMIT_BURST: '1000000',
    RATE_LIMIT_IP_BURST: '1000000',
    ...options.env,
  });
  const clock = options.clock ?? new FakeClock();
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(config, database.url), ...(options.imports ?? [])] })
    .overrideProvider(Clock)
    .useValue(clock);
  for (const o of options.overrides ?? []) builder.overrideProvider(o.provide).useValue(o.useValue);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ bodyParser: false });
  configureApp(app, config);
  await app.init();
  await app.listen(0, '127.0.0.1');
  const http = request(app.getHttpServer());
  return {
    app,
    http,
    db: app.get(DataSource),
    clock,
    config,
    databaseUrl: database.url,
    async newTenant(name = 'Acme') {
      const tenant = await http.post('/v1/admin/tenants').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ name }).expect(201);
      const key = await http.post(`/v1/admin/tenants/${tenant.body.id}/api-keys`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ name: 'test' }).expect(201);
      return { tenantId: tenant.body.id as string, apiKey: key.body.key as string };
    },
    async close() {
      await app.close();
      await database.drop();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
