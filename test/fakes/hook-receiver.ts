import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedHook {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Wall time (ms since the receiver was created) when the request arrived. */
  at: number;
}

/**
 * A client's hook endpoint on 127.0.0.1: records every request (headers and raw body) and answers `status` after
 * `delayMs`. `stop()` closes it (connections refused); `start()` listens again on the same port.
 */
export class HookReceiver {
  readonly requests: ReceivedHook[] = [];
  status = 200;
  delayMs = 0;
  responseBody = 'ok';
  private server: Server | null = null;
  private port = 0;
  private readonly born = Date.now();

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() - this.born });
        const answer = () => {
          res.writeHead(this.status, { 'content-type': 'text/plain' });
          res.end(this.responseBody);
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    // Answers are short; keep-alive sockets would keep a stopped receiver reachable.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits (bounded) until at least `n` requests arrived. */
  async waitFor(n: number, timeoutMs = 5000): Promise<ReceivedHook[]> {
    const until = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      if (Date.now() > until) throw new Error(`expected ${n} hook requests, got ${this.requests.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.requests;
  }
}
