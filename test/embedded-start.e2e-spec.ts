import { jest } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnBuiltService, type ServiceProcess } from './support/built-service.js';
import { freePort } from './support/free-port.js';

/**
 * `npm start` on the embedded default, as an operator meets it: Ctrl-C in the terminal, a start that cannot work, and a
 * start on the data dir of a process that was killed with -9.
 */
describe('Embedded PostgreSQL start and stop (built service)', () => {
  jest.setTimeout(180_000);
  let parent: string;
  let pgPort: number;
  const running: ServiceProcess[] = [];

  const dataDir = () => path.join(parent, 'data');
  const postmasterPid = () => {
    const file = path.join(dataDir(), 'postgres', 'postmaster.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : null;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ') === false;
    } catch {
      return false;
    }
  };
  const start = async (env: Record<string, string> = {}) => {
    const service = await spawnBuiltService({ DATA_DIR: dataDir(), EMBEDDED_PG_PORT: String(pgPort), ...env }, { detached: true });
    running.push(service);
    return service;
  };

  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), 'testigo-embedded-'));
    chmodSync(parent, 0o755); // as root, the server runs as `postgres`, which must reach its data dir
    pgPort = await freePort();
  });

  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
    await Promise.all(running.map((s) => s.exited));
    const pid = postmasterPid();
    if (pid && alive(pid)) process.kill(pid, 'SIGINT');
    for (let i = 0; i < 50 && pid && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    rmSync(parent, { recursive: true, force: true });
  });

  it('Ctrl-C (SIGINT to the whole process group) closes the app first, then stops PostgreSQL', async () => {
    const service = await start();
    await service.waitUntilUp('/health/ready', 90_000);
    const pid = postmasterPid()!;
    expect(alive(pid)).toBe(true);
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"
    const group = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    expect(group).not.toBe(service.child.pid);
    // A terminal's Ctrl-C signals every process of the foreground group; the server must not be among them.
    process.kill(-service.child.pid!, 'SIGINT');
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('SIGINT received: stopping…');
    expect(service.output()).not.toMatch(/shutting down|terminating connection|error/i);
    expect(service.output()).toContain('Embedded PostgreSQL stopped.');
    expect(alive(pid)).toBe(false);
    expect(postmasterPid()).toBeNull();
  });

  it('SIGINT to the node process alone stops PostgreSQL too, also while the service is still starting', async () => {
    // Ready: the app closes, then the server stops.
    const up = await start();
    await up.waitUntilUp('/health/ready', 60_000);
    const pid = postmasterPid()!;
    up.child.kill('SIGINT');
    expect(await up.exited).toBe(0);
    expect(up.output()).toContain('Embedded PostgreSQL stopped.');
    expect(alive(pid)).toBe(false);

    // Starting: /health answers while PostgreSQL starts and the migrations run, with no app to close yet; the
    // signal is kept until that step ends, then the server is stopped (without a listener it killed the process and
    // left the server running).
    const starting = await start();
    await starting.waitUntilUp('/health', 60_000);
    starting.child.kill('SIGINT');
    expect(await starting.exited).toBe(0);
    expect(starting.output()).toContain('SIGINT received while starting');
    expect(starting.output()).toContain('Embedded PostgreSQL stopped.');
    const left = postmasterPid();
    expect(left === null || !alive(left)).toBe(true);
  });

  it('a start on the data dir of a process killed with -9 takes over the server it left running', async () => {
    const first = await start();
    await first.waitUntilUp('/health/ready', 60_000);
    const left = postmasterPid()!;
    // TCP only: no socket lock in /tmp naming a pid, which a kill -9 would leave behind for the next start to trip on.
    expect(existsSync(`/tmp/.s.PGSQL.${pgPort}.lock`)).toBe(false);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(alive(left)).toBe(true);

    const second = await start();
    await second.waitUntilUp('/health/ready', 60_000);
    expect(second.output()).toContain(`left running on ${path.join(dataDir(), 'postgres')} (pid ${left})`);
    expect(alive(left)).toBe(false);
    const health = await second.request('GET', '/health');
    expect(health.body.details.database.status).toBe('up');

    // Half-stopped: the app and the server both killed with -9 leave a stale postmaster.pid behind.
    const server = postmasterPid()!;
    second.child.kill('SIGKILL');
    await second.exited;
    process.kill(server, 'SIGKILL');
    for (let i = 0; i < 50 && alive(server); i++) await new Promise((r) => setTimeout(r, 100));
    expect(postmasterPid()).toBe(server);

    const third = await start();
    await third.waitUntilUp('/health/ready', 60_000);
    expect((await third.request('GET', '/health')).status).toBe(200);
    process.kill(-third.child.pid!, 'SIGINT');
    expect(await third.exited).toBe(0);
  });

  it('a second service on the same data dir is refused with a message naming it', async () => {
    const first = await start();
    await first.waitUntilUp('/health/ready', 60_000);
    const second = await start({ EMBEDDED_PG_PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`${path.join(dataDir(), 'postgres')} is in use by another Testigo process (pid ${first.child.pid})`);
    expect(second.output()).not.toContain('Cannot read properties');
    expect((await first.request('GET', '/health')).status).toBe(200);
    process.kill(-first.child.pid!, 'SIGINT');
    expect(await first.exited).toBe(0);
  });

  it('a taken port is named in the message', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(pgPort, '127.0.0.1', resolve));
    try {
      const service = await start();
      expect(await service.exited).toBe(1);
      expect(service.output()).toContain(`port ${pgPort} is taken by another program: stop it or set EMBEDDED_PG_PORT to a free port`);
      expect(service.output()).not.toContain('Cannot read properties');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
