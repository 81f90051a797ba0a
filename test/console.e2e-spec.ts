import { gzipSync } from 'node:zlib';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { until } from './support/until.js';

const LINE = '+14155550100';
const USER = '+573001234567';

/** Reads a Server-Sent Events response: its events as {type, data}, as they arrive. */
function readEvents(res: Response): { events: Array<{ type: string; data: unknown }>; stop(): void } {
  const events: Array<{ type: string; data: unknown }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const chunk = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(chunk)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        events.push({ type, data: data ? JSON.parse(data) : null });
      }
    }
  })();
  return { events, stop: () => void reader.cancel().catch(() => undefined) };
}

describe('console API: the live sandbox stream and inbound QR codes (built service)', () => {
  let svc: BuiltService;
  let key: Record<string, string>;
  let flowId: string;

  beforeAll(async () => {
    svc = await startBuiltService();
    const { apiKey } = await svc.newTenant('Console API');
    key = { 'truora-api-key': apiKey };
    expect((await svc.request('POST', '/v1/whatsapp/numbers', { headers: key, body: { phone_number: LINE, provider: 'sandbox' } })).status).toBe(201);
    const flow = await svc.request('POST', '/v1/flows', {
      headers: key,
      body: {
        name: 'Hi',
        steps: [
          { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
        ],
      },
    });
    flowId = flow.body.id;
  }, 60_000);
  afterAll(() => svc?.stop());

  const stream = (phone: string, headers = key) =>
    fetch(`${svc.url}/v1/sandbox/events?waba_phone_number=${encodeURIComponent(LINE)}&phone=${encodeURIComponent(phone)}`, {
      headers: { ...headers, accept: 'text/event-stream' },
    });

  it('announces the messages of one conversation as they are committed, and nothing of another', async () => {
    const inbound = await svc.request('POST', '/v1/whatsapp/inbounds', { headers: key, body: { waba_phone_number: LINE, flow_id: flowId, inbound_message: 'Hola' } });
    expect(inbound.status).toBe(201);
    const res = await stream(USER);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const other = await stream('+573009999999');
    const mine = readEvents(res);
    const theirs = readEvents(other);
    try {
      // The stream starts with a resync (read the conversation now), once it listens.
      await until('the first resync', async () => mine.events.some((e) => e.type === 'resync'));
      await until('the other stream to start', async () => theirs.events.some((e) => e.type === 'resync'));
      const said = await svc.request('POST', '/v1/sandbox/messages', { headers: key, body: { waba_phone_number: LINE, from: USER, text: 'Hola' } });
      expect(said.status).toBe(202);
      // The user's message, then the bot's question (recorded, then updated as it is sent).
      const messages = await until('the inbound and the reply', async () => {
        const ids = mine.events.filter((e) => e.type === 'message').map((e) => (e.data as { id: string }).id);
        return new Set(ids).size >= 2 && ids;
      });
      const transcript = await svc.request('GET', `/v1/sandbox/messages?waba_phone_number=${encodeURIComponent(LINE)}&phone=${encodeURIComponent(USER)}`, { headers: key });
      const ids = transcript.body.data.map((m: { id: string }) => m.id);
      for (const id of messages) expect(ids).toContain(id);
      expect(theirs.events.filter((e) => e.type === 'message')).toEqual([]);
    } finally {
      mine.stop();
      theirs.stop();
    }
  });

  it('needs an API key of the line’s tenant, and a sandbox line', async () => {
    expect((await stream(USER, {})).status).toBe(401);
    const { apiKey } = await svc.newTenant('Other');
    // Another tenant's line is no line of theirs.
    const refused = await stream(USER, { 'truora-api-key': apiKey });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ details: [{ field: 'waba_phone_number' }] });
    const bad = await fetch(`${svc.url}/v1/sandbox/events?waba_phone_number=${encodeURIComponent(LINE)}&phone=nope`, { headers: key });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'phone' }] });
  });

  it('serves an inbound’s wa.me link as a QR code PNG; 404 for an inbound of another tenant', async () => {
    const list = await svc.request('GET', '/v1/whatsapp/inbounds', { headers: key });
    const inbound = list.body.data[0];
    const res = await fetch(`${svc.url}/v1/whatsapp/inbounds/${inbound.inbound_id}/qr.png`, { headers: key });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBe(320); // IHDR width
    const { apiKey } = await svc.newTenant('Stranger');
    const other = await svc.request('GET', `/v1/whatsapp/inbounds/${inbound.inbound_id}/qr.png`, { headers: { 'truora-api-key': apiKey } });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('serves the console at /console (GET / redirects there), its assets cached for good and index.html revalidated', async () => {
    const home = await fetch(`${svc.url}/`, { redirect: 'manual' });
    expect([home.status, home.headers.get('location')]).toEqual([302, '/console/']);
    const index = await fetch(`${svc.url}/console/`);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const script = /<script type="module" crossorigin src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(svc.url + script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // The first load (index.html and what it links) stays small.
    const linked = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThanOrEqual(2);
    let gzipped = gzipSync(html).length;
    for (const file of linked) gzipped += gzipSync(Buffer.from(await (await fetch(svc.url + file)).arrayBuffer())).length;
    expect(gzipped).toBeLessThan(300_000);
    process.stdout.write(`console first load: ${gzipped} bytes gzip\n`);
    // A route of the page (hash routes aside) still gets the page.
    expect((await fetch(`${svc.url}/console/processes`)).status).toBe(200);
    expect(svc.output()).toMatch(/^Console: http:\/\/localhost:\d+\/console\/$/m);
    // The API keeps its own CSP (Swagger UI's inline set-up).
    expect((await fetch(`${svc.url}/docs`)).headers.get('content-security-policy')).toContain("'unsafe-inline'");
  });

  it('hides the clock where SANDBOX_CLOCK is off: GET says not movable, POST is 404', async () => {
    const clock = await svc.request('GET', '/v1/sandbox/clock', { headers: key });
    expect(clock.body).toMatchObject({ movable: false });
    const move = await svc.request('POST', '/v1/sandbox/clock', { headers: key, body: { minutes: 60 } });
    expect([move.status, move.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('ends its open streams when the service stops, which then stops at once instead of waiting out its grace', async () => {
    const res = await stream(USER);
    const open = readEvents(res);
    await until('the stream to start', async () => open.events.some((e) => e.type === 'resync'));
    const started = Date.now();
    svc.child.kill('SIGTERM');
    await new Promise((resolve) => svc.child.once('exit', resolve));
    expect(Date.now() - started).toBeLessThan(10_000); // SHUTDOWN_GRACE_SECONDS is 25
    expect(svc.output()).not.toContain('requests still running were cut');
  });
});

describe('the sandbox clock (SANDBOX_CLOCK=true, built service)', () => {
  let svc: BuiltService;
  let key: Record<string, string>;
  beforeAll(async () => {
    svc = await startBuiltService({ SANDBOX_CLOCK: 'true' });
    key = { 'truora-api-key': (await svc.newTenant('Clock')).apiKey };
  }, 60_000);
  afterAll(() => svc?.stop());

  it('moves forward on request, and the follow-up of an unanswered question then arrives', async () => {
    await svc.request('POST', '/v1/whatsapp/numbers', { headers: key, body: { phone_number: LINE, provider: 'sandbox' } });
    const flow = await svc.request('POST', '/v1/flows', {
      headers: key,
      body: {
        name: 'Quiet',
        settings: { enable_follow_up: true, follow_up_delay: 30, follow_up_message: '¿Sigues ahí?', start_business_hours: '00:00', end_business_hours: '00:00' },
        steps: [
          { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' } },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Gracias' },
        ],
      },
    });
    expect(flow.status).toBe(201);
    await svc.request('POST', '/v1/whatsapp/inbounds', { headers: key, body: { waba_phone_number: LINE, flow_id: flow.body.id, inbound_message: 'Hola' } });
    await svc.request('POST', '/v1/sandbox/messages', { headers: key, body: { waba_phone_number: LINE, from: USER, text: 'Hola' } });
    const transcript = async () =>
      (await svc.request('GET', `/v1/sandbox/messages?waba_phone_number=${encodeURIComponent(LINE)}&phone=${encodeURIComponent(USER)}`, { headers: key })).body.data as Array<{
        content: { body?: string };
      }>;
    await until('the question', async () => (await transcript()).some((m) => m.content.body === '¿Tu correo?'));
    const before = await svc.request('GET', '/v1/sandbox/clock', { headers: key });
    expect(before.body.movable).toBe(true);
    const moved = await svc.request('POST', '/v1/sandbox/clock', { headers: key, body: { minutes: 31 } });
    expect(moved.status).toBe(200);
    expect(new Date(moved.body.now).getTime() - new Date(before.body.now).getTime()).toBeGreaterThanOrEqual(31 * 60_000);
    await until('the follow-up', async () => (await transcript()).some((m) => JSON.stringify(m.content).includes('¿Sigues ahí?')));
    const bad = await svc.request('POST', '/v1/sandbox/clock', { headers: key, body: { minutes: -5 } });
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'minutes' }] });
  }, 30_000);

  it('is refused in production and with several processes', async () => {
    const { loadConfig } = await import('../src/config/app-config.js');
    expect(() => loadConfig({ SANDBOX_CLOCK: 'true', NODE_ENV: 'production' })).toThrow(/SANDBOX_CLOCK: refused with NODE_ENV=production/);
    expect(() => loadConfig({ SANDBOX_CLOCK: 'true', PROCESSES: '2' })).toThrow(/SANDBOX_CLOCK: needs PROCESSES=1/);
    expect(loadConfig({ SANDBOX_CLOCK: 'true' }).SANDBOX_CLOCK).toBe(true);
  });
});
