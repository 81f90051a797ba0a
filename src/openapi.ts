import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { buildOpenApi } from './app.setup.js';
import { loadConfig } from './config/app-config.js';

/** Prints the OpenAPI document without a database: preview mode builds the routes but instantiates no provider. */
const app = await NestFactory.create(AppModule.forRoot(loadConfig({}), 'postgres://unused/unused'), {
  preview: true,
  logger: false,
  bodyParser: false,
});
process.stdout.write(JSON.stringify(buildOpenApi(app), null, 2) + '\n');
await app.close();
