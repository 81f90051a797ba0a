import { createServer } from 'node:http';
import { ConfigError } from '../../config/app-config.js';
import { ErrorCode } from '../errors/app-error.js';

/**
 * Holds the service's port while it starts (database, migrations): `/health` answers 200 (the process is alive, a
 * liveness probe must not kill it mid-migration), `/health/ready` and everything else 503 with `Retry-After`, so a
 * load balancer sends nothing here yet and Meta retries its calls. Closed just before the app listens.
 */
export async function holdPort(port: number): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const live = (req.url ?? '').split('?')[0] === '/health';
    const body = JSON.stringify(live ? { status: 'starting' } : { statusCode: 503, code: ErrorCode.STARTING, message: 'The service is starting; retry later', requestId: '' });
    res.writeHead(live ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5', connection: 'close', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConfigError(`PORT ${port} is taken by another program: stop it or set PORT to a free port`) : err),
    );
    server.listen(port, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
