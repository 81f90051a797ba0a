import { WorkerLoop } from './worker-loop.js';

describe('WorkerLoop', () => {
  it('works again at once while there is work, idles when there is none, and wake() cuts the idle short', async () => {
    const rounds: number[] = [];
    let queue = 3;
    const loop = new WorkerLoop(
      'test',
      async () => {
        rounds.push(Date.now());
        if (queue === 0) return 0;
        queue--;
        return 1;
      },
      60_000,
    );
    loop.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toHaveLength(4); // three with work, one that found none and idles (for a minute)
    queue = 1;
    loop.wake();
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toHaveLength(6);
    const stopped = Date.now();
    await loop.stop();
    expect(Date.now() - stopped).toBeLessThan(1000); // stop does not wait for the idle minute
  });

  it('keeps going after a failing round', async () => {
    let calls = 0;
    const loop = new WorkerLoop(
      'test',
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return 0;
      },
      10,
    );
    loop.start();
    await new Promise((r) => setTimeout(r, 1200));
    await loop.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
