import 'reflect-metadata';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { SnakeNamingStrategy } from './snake-naming.strategy.js';

/**
 * Options shared by the app, the tests and the TypeORM CLI. Schema changes only through migrations. `poolSize`: the
 * connections of this process (an instance of several processes shares PostgreSQL's connection limit).
 */
export function dataSourceOptions(url: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    // A connection that cannot be had in 5 s (server away, pool exhausted) fails the request with a 503 rather than
    // hanging it; the pool opens new connections by itself once the server is back.
    extra: { max: poolSize, application_name: 'testigo', connectionTimeoutMillis: 5000 },
  };
}

/** Applies pending migrations; used at start-up and by `npm run migration:run`. */
export async function runMigrations(url: string): Promise<void> {
  const ds = new DataSource(dataSourceOptions(url));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

// The TypeORM CLI loads this file's default export.
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://postgres@localhost:5432/testigo'));
