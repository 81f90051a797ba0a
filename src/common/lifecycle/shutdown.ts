import { Injectable, type INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';

/** Whether this instance is stopping: `/health/ready` answers 503 from the moment a stop begins. */
@Injectable()
export class Lifecycle {
  private stoppingNow = false;
  private readonly onStops: Array<() => void> = [];

  get stopping(): boolean {
    return this.stoppingNow;
  }

  /** Set when a stop begins: what waits on `onStop` (long-lived responses, such as event streams) ends then. */
  set stopping(value: boolean) {
    const starting = value && !this.stoppingNow;
    this.stoppingNow = value;
    if (starting) for (const stop of this.onStops.splice(0)) stop();
  }

  /** Runs `stop` when a stop begins (at once if one has); returns the way to take it back. */
  onStop(stop: () => void): () => void {
    if (this.stoppingNow) {
      stop();
      return () => undefined;
    }
    this.onStops.push(stop);
    return () => {
      const i = this.onStops.indexOf(stop);
      if (i >= 0) this.onStops.splice(i, 1);
    };
  }
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
