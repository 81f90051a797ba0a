import { CronRun } from './cron-run.js';

describe('CronRun', () => {
  it('runs one at a time, survives a failure, and stop() waits for the run under way', async () => {
    let runs = 0;
    let release!: () => void;
    let fail = true;
    const cron = new CronRun('test', async () => {
      runs++;
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
      await new Promise<void>((r) => (release = r));
    });
    await cron.run(); // fails, logged
    const first = cron.run();
    const second = cron.run(); // the first is still going: nothing new starts
    expect(runs).toBe(2);
    let stopped = false;
    const stopping = cron.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await Promise.all([first, second, stopping]);
    expect(stopped).toBe(true);
    await cron.run(); // after stop: nothing runs
    expect(runs).toBe(2);
  });
});
