import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { loadConfig } from '../../config/app-config.js';
import { OutgoingHttp, pinnedLookup } from './outgoing-http.js';
import { HostResolver } from './url-guard.js';

class SequenceResolver extends HostResolver {
  calls = 0;
  constructor(private readonly answers: string[][]) {
    super();
  }
  async resolve(): Promise<string[]> {
    return this.answers[Math.min(this.calls++, this.answers.length - 1)];
  }
}

describe('OutgoingHttp', () => {
  let server: Server;
  let port: number;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/drip') {
        // A byte every 100 ms: every chunk well inside the per-chunk timeout, the whole past the call's limit.
        res.writeHead(200);
        const timer = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.end('pinned');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('connects a tenant host to the address its lookup checked, keeping the Host header', async () => {
    // No real DNS knows this name: reaching the server proves the socket used the resolver's answer.
    const resolver = new SequenceResolver([['127.0.0.1']]);
    const http = new OutgoingHttp(loadConfig({ ALLOW_LOCAL_URLS: 'true' }), resolver);
    const res = await request(`http://bsp.pinned.test:${port}/x`, { dispatcher: http.guarded });
    expect(await res.body.text()).toBe('pinned');
    expect(seen.at(-1)?.host).toBe(`bsp.pinned.test:${port}`);
    expect(resolver.calls).toBe(1);
    await http.onApplicationShutdown();
  });

  it('hands the socket exactly the addresses it checked, and refuses a host with any private one', async () => {
    const resolver = new SequenceResolver([['93.184.216.34'], ['127.0.0.1']]);
    const lookup = pinnedLookup(resolver, false);
    const answer = (all: boolean) => new Promise<unknown>((resolve) => lookup('rebind.test', { all }, (err, address) => resolve(err ? (err as { code?: string }).code : address)));
    expect(await answer(true)).toEqual([{ address: '93.184.216.34', family: 4 }]);
    // A later lookup (a new connection) is checked on its own.
    expect(await answer(false)).toBe('EBLOCKED');
    const mixed = pinnedLookup(new SequenceResolver([['93.184.216.34', '::ffff:0:127.0.0.1']]), false);
    const code = await new Promise((resolve) => mixed('mixed.test', { all: true }, (err) => resolve((err as { code?: string } | null)?.code)));
    expect(code).toBe('EBLOCKED');
  });

  it('ends a call at its total time limit even when every chunk arrives in time', async () => {
    const http = new OutgoingHttp(loadConfig({}), new SequenceResolver([['127.0.0.1']]));
    const started = Date.now();
    const err = await http.call(`http://127.0.0.1:${port}/drip`, { maxBytes: 1024, totalMs: 600, guarded: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    await http.onApplicationShutdown();
  });
});
