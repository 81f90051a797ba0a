import { Logger } from '@nestjs/common';

/**
 * An in-process background worker: runs `work` again at once while it finds something to do, else waits `idleMs`
 * (or until `wake()`), and stops cleanly with the app. A failing round is logged and retried after a pause.
 */
export class WorkerLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  /** A wake() that came while working: the next idle is skipped, so the work it announced is not left waiting. */
  private woken = false;
  private readonly logger: Logger;

  constructor(
    name: string,
    private readonly work: () => Promise<number>,
    private readonly idleMs: number,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Cuts the current idle wait short (new work was committed in this process). */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let done: number;
      try {
        done = await this.work();
      } catch (err) {
        this.logger.error({ err }, 'worker round failed');
        await this.idle(1000);
        continue;
      }
      if (done === 0) await this.idle(this.idleMs);
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.woken || !this.running) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
  }
}
