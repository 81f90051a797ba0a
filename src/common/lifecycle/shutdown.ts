import { Injectable, type INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';

/** Whether this instance is stopping: `/health/ready` answers 503 from the moment a stop begins. */
@Injectable()
export class Lifecycle {
  stopping = false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Stops an instance within `graceSeconds`: readiness turns 503, the HTTP server stops accepting connections, requests
 * in flight finish (idle keep-alive connections are closed at once), then the app closes (workers finish their round,
 * the database pool ends). Connections still busy when the grace is over are cut; resolves with whether all finished.
 */
export async function closeGracefully(app: INestApplication, graceSeconds: number): Promise<boolean> {
  const deadline = Date.now() + graceSeconds * 1000;
  app.get(Lifecycle, { strict: false }).stopping = true;
  const server = app.getHttpServer() as Server;
  const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
  server.closeIdleConnections();
  let clean = await Promise.race([drained, sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
  if (!clean) server.closeAllConnections();
  const closed = await Promise.race([app.close().then(() => true), sleep(Math.max(1000, deadline - Date.now())).then(() => false)]);
  clean &&= closed;
  return clean;
}
