import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Metrics } from '../metrics/metrics.js';

/** Seconds; from a fast webhook acknowledgement to a slow PDF upload. */
const BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `testigo_http_request_duration_seconds{method, route, status}`: every request the server answers, timed from its
 * first byte to the end of the answer. `route` is the route's pattern (`/v1/processes/:id`, never an id), one of
 * `rawRoutes` for the routes served ahead of express, or `unmatched` (404s, static files), so the label stays bounded.
 * Wraps the server's request listeners: install it after anything that replaces them.
 */
export function installRequestMetrics(server: Server, metrics: Metrics, rawRoutes: readonly string[]): void {
  const histogram = metrics.histogram('testigo_http_request_duration_seconds', 'HTTP request duration, by route pattern and status', ['method', 'route', 'status'], BUCKETS);
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const end = histogram.startTimer();
    res.once('finish', () => end({ method: req.method ?? 'GET', route: routeOf(req, rawRoutes), status: String(res.statusCode) }));
    for (const listener of listeners) listener(req, res);
  });
}

function routeOf(req: IncomingMessage, rawRoutes: readonly string[]): string {
  // Express sets `route` (the matched layer) and `baseUrl` on the request it was given.
  const matched = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  if (typeof matched.route?.path === 'string') return (matched.baseUrl ?? '') + matched.route.path;
  const pathname = (req.url ?? '').split('?')[0]!;
  return rawRoutes.includes(pathname) ? pathname : 'unmatched';
}
