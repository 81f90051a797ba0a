import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMigrations } from '../src/database/data-source.js';
import { freePort } from '../test/support/free-port.js';
export { freePort };
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded-postgres.js';

/** A throwaway embedded PostgreSQL (fsync off), migrated; `stop()` removes its files. */
export async function benchDatabase(): Promise<EmbeddedDatabase> {
  const parent = mkdtempSync(path.join(tmpdir(), 'testigo-bench-'));
  chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its data dir
  const db = await startEmbeddedPostgres({ dataDir: path.join(parent, 'pg'), port: await freePort(), database: 'bench', ephemeral: true });
  await runMigrations(db.url);
  return {
    url: db.url,
    stop: async () => {
      await db.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** The sealing key of every benchmark's service (with DATABASE_URL the service requires one). */
export const BENCH_SECRETS_KEY = Buffer.alloc(32, 9).toString('base64');

/**
 * What a benchmark's service needs beside an external database: a sealing key and a folder for stored files; and API
 * rate limits out of the way (the benchmarks measure the service, not the limiter).
 */
export function benchEnv(): Record<string, string> {
  return {
    SECRETS_KEY: BENCH_SECRETS_KEY,
    FILES_DIR: mkdtempSync(path.join(tmpdir(), 'testigo-bench-files-')),
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    // A generated trial CA in a throwaway data dir: required with DATABASE_URL, and benches do not sign for real.
    SIGNING_TRIAL: 'true',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'testigo-bench-data-')),
  };
}

/** The built service (dist/) as a child process, as in production; resolves once /health/ready answers. */
export async function startService(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; peakRssMb(): number; stop(): Promise<void> }> {
  const port = await freePort();
  const entry = new URL('../../dist/src/main.js', import.meta.url).pathname;
  // BENCH_NODE_ARGS (e.g. --cpu-prof) go to the service process, to profile it under load.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...benchEnv(), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    // Not /health: while the service starts, the port is held and /health already answers 200.
    // (A 404: code from before /health/ready, compared with bench:compare, whose app answers once it listens.)
    const ok = await httpJson('GET', `${url}/health/ready`)
      .then((r) => r.status === 200 || r.status === 404)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    // With PROCESSES > 1, the sum over the primary and the processes it forked.
    peakRssMb: () => {
      const pids = [child.pid!, ...readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)];
      const kb = pids.map((pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN));
      return Math.round(kb.reduce((a, b) => a + b, 0) / 1024);
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function httpJson(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

/** A process's CPU time (user + system) in seconds, from /proc (0 when it is gone). */
function processCpuSeconds(pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ, 100 on Linux)
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used so far by the service (with its forked processes), by PostgreSQL (every `postgres` process on the
 * machine: the benchmarks run on a machine of their own) and by this load generator. Taken before and after a load,
 * the difference says where the machine's cores went, a steadier figure than throughput on a busy machine.
 */
export function cpuSeconds(service: ChildProcess): { service: number; database: number; load: number } {
  const children = readFileSync(`/proc/${service.pid}/task/${service.pid}/children`, 'utf8').split(' ').filter(Boolean);
  let database = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') database += processCpuSeconds(pid);
    } catch {
      // gone meanwhile
    }
  }
  const own = process.cpuUsage();
  return {
    service: [String(service.pid), ...children].reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    database,
    load: (own.user + own.system) / 1e6,
  };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` in flight; returns per-task latencies in ms. */
export async function runLoad(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = new Array(total);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t0 = performance.now();
      await task(i);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies;
}

/** Runs `task` n times one at a time after 5 warm-up runs; prints and returns p50, p99 (ms) and the rate. */
export async function timed(label: string, n: number, task: () => Promise<unknown>): Promise<{ p50: number; p99: number; rate: number }> {
  for (let i = 0; i < 5; i++) await task(); // warm-up: JIT, connection pool
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await task();
    times.push(performance.now() - s);
  }
  const rate = n / ((performance.now() - t0) / 1000);
  times.sort((a, b) => a - b);
  const row = { p50: percentile(times, 50), p99: percentile(times, 99), rate };
  console.log(`${label.padEnd(52)} ${row.p50.toFixed(1).padStart(7)} ms ${row.p99.toFixed(1).padStart(7)} ms ${row.rate.toFixed(1).padStart(8)}/s`);
  return row;
}
