import { spawn } from 'node:child_process';

/**
 * A TCP relay in a Node.js process of its own, in front of the fake Graph API: it notes when the request line of
 * each send (`POST …/messages`) reaches it, the way a provider's edge counts a rate limit, and passes the bytes on
 * untouched. The fake runs inside Jest's process beside the load generator, whose pauses (up to a few hundred ms
 * while the load starts) would bunch the times the fake sees; the relay does nothing else, so it stays on time.
 */
const RELAY = `
import net from 'node:net';
const targetPort = Number(process.env.TARGET_PORT);
const SEND = /POST \\/[^ \\r\\n]*\\/messages HTTP\\/1\\.1\\r\\n/g;
const arrivals = [];
const server = net.createServer((client) => {
  const upstream = net.connect(targetPort, '127.0.0.1');
  let tail = '';
  client.on('data', (chunk) => {
    const at = Date.now();
    // A request line split between two chunks is found in the tail kept from the one before.
    const text = tail + chunk.toString('latin1');
    for (const m of text.matchAll(SEND)) if (m.index + m[0].length > tail.length) arrivals.push(at);
    tail = text.slice(-256);
    upstream.write(chunk);
  });
  upstream.pipe(client);
  client.on('end', () => upstream.end());
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  upstream.on('close', close);
  client.on('close', close);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', () => process.send({ arrivals }));
`;

export interface SendCounter {
  /** Where the service is to send its Graph API calls. */
  url: string;
  /** When each send request reached the relay (ms since the epoch). */
  arrivals(): Promise<number[]>;
  close(): Promise<void>;
}

export async function startSendCounter(targetUrl: string): Promise<SendCounter> {
  // As the other helper processes of the fault suite: the script inline, here with an IPC channel to ask it.
  const child = spawn(process.execPath, ['--input-type=module', '-e', RELAY], {
    env: { PATH: process.env.PATH, TARGET_PORT: new URL(targetUrl).port },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the send counter exited (${code})`))));
  exited.catch(() => undefined);
  const reply = <T>(): Promise<T> => Promise.race([new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T))), exited]);
  const { port } = await reply<{ port: number }>();
  return {
    url: `http://127.0.0.1:${port}`,
    async arrivals() {
      const answer = reply<{ arrivals: number[] }>();
      child.send('arrivals');
      return (await answer).arrivals;
    },
    async close() {
      child.kill();
      await exited.catch(() => undefined);
    },
  };
}
