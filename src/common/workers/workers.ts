import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { CronRun } from './cron-run.js';
import { WorkerLoop } from './worker-loop.js';

/**
 * The app's background work in one place: worker loops (webhook processing, sends, media downloads) and interval
 * crons are created here, started with the app only when WORKERS_ENABLED, and stopped before the database closes.
 */
@Injectable()
export class Workers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loops: WorkerLoop[] = [];
  private readonly crons: CronRun[] = [];

  constructor(private readonly config: AppConfig) {}

  /** A loop running `work` again at once while it finds something, else every `idleMs` (see WorkerLoop). */
  loop(name: string, work: () => Promise<number>, idleMs: number): WorkerLoop {
    const loop = new WorkerLoop(name, work, idleMs);
    this.loops.push(loop);
    return loop;
  }

  /** The runs of an `@Interval` task; they do nothing on an instance without workers. */
  cron(name: string, task: () => Promise<unknown>): CronRun {
    const cron = new CronRun(name, task, this.config.WORKERS_ENABLED);
    this.crons.push(cron);
    return cron;
  }

  onApplicationBootstrap(): void {
    if (this.config.WORKERS_ENABLED) for (const loop of this.loops) loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.loops.map((l) => l.stop()), ...this.crons.map((c) => c.stop())]);
  }
}
