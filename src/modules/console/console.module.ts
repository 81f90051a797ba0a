import path from 'node:path';
import { Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { WebhooksModule } from '../webhooks/webhooks.module.js';
import { CONSOLE_DIR, CONSOLE_PATH } from './console-assets.js';
import { ConsoleController } from './console.controller.js';
import { SandboxClockController } from './sandbox-clock.controller.js';
import { SandboxEventsController } from './sandbox-events.controller.js';
import { SandboxEventsService } from './sandbox-events.service.js';

/**
 * The web console (web/, served at /console from the built assets) and what only it needs from the API: the live
 * sandbox conversation stream.
 */
@Module({
  imports: [
    WebhooksModule,
    ServeStaticModule.forRoot({
      rootPath: CONSOLE_DIR,
      serveRoot: CONSOLE_PATH,
      // Hashed file names (assets/) never change; index.html is read again each time.
      serveStaticOptions: {
        index: 'index.html',
        setHeaders: (res: { setHeader(name: string, value: string): void }, file: string) =>
          res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
      },
    }),
  ],
  controllers: [ConsoleController, SandboxEventsController, SandboxClockController],
  providers: [SandboxEventsService],
})
export class ConsoleModule {}
