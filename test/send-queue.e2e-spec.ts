import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import type { OutgoingMessage } from '../src/whatsapp/whatsapp.types.js';
import { cloudSetup, CloudSetup } from './support/cloud-line.js';
import { createTestApp } from './support/test-app.js';

/** Most sends that fall in any sliding 1-second window. */
function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('send queue', () => {
  let s: CloudSetup;
  let queue: SendQueueService;
  let messages: MessagesService;
  beforeEach(async () => {
    s = await cloudSetup({ throughputMps: 20 });
    queue = s.t.app.get(SendQueueService);
    messages = s.t.app.get(MessagesService);
  });
  afterEach(() => s.close());

  const enqueue = (phone: string, message: OutgoingMessage) => s.t.db.transaction((m) => messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone, message }));
  const status = async (id: string) => (await s.t.db.query(`SELECT status, attempts, error_code, next_attempt_at FROM messages WHERE id = $1`, [id]))[0];

  it("never exceeds the line's throughput in any second", async () => {
    for (let i = 0; i < 50; i++) await enqueue(`+5730099${String(10000 + i)}`, { kind: 'text', body: `hola ${i}` });
    const started = Date.now();
    await queue.drain();
    expect(s.fake.sent).toHaveLength(50);
    expect(maxPerSecond(s.fake.sent.map((m) => m.at))).toBeLessThanOrEqual(20);
    // Paced, not stalled: 50 messages at 20/s take about 2.5 s.
    expect(Date.now() - started).toBeGreaterThan(2000);
  });

  it('sends every kind of message in the shape the Graph API accepts', async () => {
    const kinds: OutgoingMessage[] = [
      { kind: 'text', body: 'Hola' },
      {
        kind: 'buttons',
        body: '¿Aceptas?',
        buttons: [
          { id: 'yes', title: 'Sí' },
          { id: 'no', title: 'No' },
        ],
      },
      {
        kind: 'list',
        body: 'Elige',
        buttonText: 'Opciones',
        rows: [
          { id: 'a', title: 'Uno' },
          { id: 'b', title: 'Dos', description: 'segunda' },
        ],
      },
      { kind: 'media', mediaType: 'document', link: 'https://example.com/contrato.pdf', filename: 'contrato.pdf', caption: 'Tu contrato' },
      { kind: 'media', mediaType: 'image', mediaId: '1234567890' },
      { kind: 'location', latitude: 4.65, longitude: -74.05, name: 'Oficina' },
      { kind: 'template', name: 'bienvenida', language: 'es', bodyParams: ['Ana'], buttonPayloads: ['continue_process:OUT1'] },
    ];
    const queued = [];
    for (const k of kinds) queued.push(await enqueue('+573009990100', k));
    await queue.drain();
    for (const q of queued) expect(await status(q.id)).toMatchObject({ status: 'sent' });
    expect(s.fake.sent.map((m) => m.type)).toEqual(['text', 'interactive', 'interactive', 'document', 'image', 'location', 'template']);
  });

  it('retries a rate-limited send with backoff, then sends it', async () => {
    s.fake.failNext(1, { httpStatus: 429, code: 130429, message: 'Rate limit hit' });
    const q = await enqueue('+573009990101', { kind: 'text', body: 'hola' });
    await queue.drain();
    const waiting = await status(q.id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1, error_code: 'RATE_LIMITED' });
    expect(waiting.next_attempt_at.getTime()).toBeGreaterThan(s.t.clock.now().getTime());
    await queue.drain();
    expect(s.fake.sent).toHaveLength(0); // not before its time
    s.t.clock.advance(5_000);
    await queue.drain();
    expect(await status(q.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(s.fake.sent).toHaveLength(1);
  });

  it('records a send outside the 24-hour window as failed, without retrying', async () => {
    s.fake.failNext(1, { code: 131047, message: 'Re-engagement message' });
    const q = await enqueue('+573009990102', { kind: 'text', body: 'hola' });
    await queue.drain();
    s.t.clock.advance(3600_000);
    await queue.drain();
    expect(await status(q.id)).toMatchObject({ status: 'failed', attempts: 1, error_code: 'OUTSIDE_WINDOW' });
    const api = await s.t.http.get(`/v1/whatsapp/messages/${q.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(api.body.error).toEqual({ code: 'OUTSIDE_WINDOW', title: expect.stringContaining('Re-engagement') });
  });

  it("keeps one user's messages in order, even when the first one must be retried", async () => {
    s.fake.failNext(1, { httpStatus: 500, code: 131000, message: 'Something went wrong' });
    const first = await enqueue('+573009990103', { kind: 'text', body: 'primero' });
    const second = await enqueue('+573009990103', { kind: 'text', body: 'segundo' });
    const other = await enqueue('+573009990104', { kind: 'text', body: 'otro usuario' });
    await queue.drain();
    expect(await status(second.id)).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await status(other.id)).toMatchObject({ status: 'sent' });
    s.t.clock.advance(60_000);
    await queue.drain();
    expect(s.fake.sentTo('573009990103').map((m) => (m.body.text as { body: string }).body)).toEqual(['primero', 'segundo']);
    expect(await status(first.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a message queued in a rolled-back transaction is never sent', async () => {
    await expect(
      s.t.db.transaction(async (m) => {
        await messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: '+573009990105', message: { kind: 'text', body: 'x' } });
        throw new Error('the caller failed');
      }),
    ).rejects.toThrow('the caller failed');
    await queue.drain();
    expect(s.fake.sentTo('573009990105')).toEqual([]);
  });
});

describe('two dispatchers on one database', () => {
  it('send each message exactly once, in order per user', async () => {
    const s = await cloudSetup({ throughputMps: 1000 });
    const second = await createTestApp({ databaseUrl: s.t.databaseUrl, env: { GRAPH_API_BASE_URL: s.fake.baseUrl, WORKERS_ENABLED: 'false' } });
    try {
      const messages = s.t.app.get(MessagesService);
      await s.t.db.transaction(async (m) => {
        for (let i = 0; i < 200; i++) {
          await messages.enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: `+5730099${20000 + (i % 40)}`, message: { kind: 'text', body: `m${i}` } });
        }
      });
      await Promise.all([s.t.app.get(SendQueueService).drain(), second.app.get(SendQueueService).drain(), s.t.app.get(SendQueueService).drain()]);
      const bodies = s.fake.sent.map((m) => (m.body.text as { body: string }).body);
      expect(bodies).toHaveLength(200);
      expect(new Set(bodies).size).toBe(200);
      for (let u = 0; u < 40; u++) {
        const mine = s.fake.sentTo(`5730099${20000 + u}`).map((m) => Number((m.body.text as { body: string }).body.slice(1)));
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
      const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM messages WHERE status = 'sent'`);
      expect(n).toBe(200);
    } finally {
      await second.app.close();
      await s.close();
    }
  });
});

describe('send queue ticks', () => {
  it("lease a fair share of every line: a slow line's backlog does not hold back another line's messages", async () => {
    const s = await cloudSetup({ throughputMps: 1 });
    try {
      const messages = s.t.app.get(MessagesService);
      const other = await s.t.http
        .post('/v1/whatsapp/numbers')
        .set('X-API-Key', s.apiKey)
        .send({ phone_number: '+14155550177', provider: 'sandbox', throughput_mps: 80 })
        .expect(201);
      // 900 messages waiting on the 1 msg/s line, older than the one on the other line: more than a tick's 800 lanes.
      await s.t.db.transaction((m) =>
        messages.enqueueMany(
          m,
          Array.from({ length: 900 }, (_, i) => ({
            tenantId: s.tenantId,
            lineId: s.lineId,
            phone: `+5730098${String(10000 + i)}`,
            message: { kind: 'text' as const, body: `m${i}` },
          })),
        ),
      );
      s.t.clock.advance(1000);
      const fresh = await s.t.db.transaction((m) =>
        messages.enqueue(m, { tenantId: s.tenantId, lineId: other.body.id, phone: '+573009990001', message: { kind: 'text', body: 'prompt' } }),
      );
      s.t.clock.advance(1000);
      expect(await s.t.app.get(SendQueueService).tick()).toBe(2);
      const [row] = await s.t.db.query(`SELECT status FROM messages WHERE id = $1`, [fresh.id]);
      expect(row.status).toBe('sent');
      expect(s.fake.sent).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it("cap a line's sends per tick at 1 second of its throughput, the rest in the next ticks", async () => {
    const s = await cloudSetup({ throughputMps: 20 });
    try {
      const messages = s.t.app.get(MessagesService);
      const queue = s.t.app.get(SendQueueService);
      await s.t.db.transaction((m) =>
        messages.enqueueMany(
          m,
          Array.from({ length: 25 }, (_, i) => ({ tenantId: s.tenantId, lineId: s.lineId, phone: `+5730099${30000 + i}`, message: { kind: 'text' as const, body: `m${i}` } })),
        ),
      );
      expect(await queue.tick()).toBe(20);
      const [{ n }] = await s.t.db.query(`SELECT count(*)::int AS n FROM messages WHERE status = 'queued'`);
      expect(n).toBe(5);
      expect(await queue.tick()).toBe(5);
      expect(s.fake.sent).toHaveLength(25);
    } finally {
      await s.close();
    }
  });
});
