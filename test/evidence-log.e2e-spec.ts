import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { contractingFlow, signContract } from './support/contracting.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';

interface Event {
  seq: number;
  type: string;
  occurred_at: string;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

/** The chain as a client recomputes it from the API's answer alone, as docs/evidence.md tells. */
function recompute(events: Event[]): string {
  let prev = '0'.repeat(64);
  for (const e of events) {
    expect(e.prev_hash).toBe(prev);
    const canonical = canonicalize({ seq: e.seq, type: e.type, occurred_at: e.occurred_at, payload: e.payload })!;
    prev = createHash('sha256').update(Buffer.from(prev, 'hex')).update(canonical, 'utf8').digest('hex');
    expect(e.hash).toBe(prev);
  }
  return prev;
}

describe('the evidence log: a hash chain per process, written with what it records', () => {
  let chat: SandboxChat;
  let key: { 'X-API-Key': string };
  let processId: string;
  let code: string;
  const user = '+573006660001';

  const evidence = async () => (await chat.t.http.get(`/v1/processes/${processId}/evidence`).set(key).expect(200)).body as { events: Event[]; head: string };
  const verify = async () => (await chat.t.http.get(`/v1/processes/${processId}/evidence/verify`).set(key).expect(200)).body;

  beforeAll(async () => {
    chat = await sandboxChat();
    key = { 'X-API-Key': chat.apiKey };
    await contractingFlow(chat, 'contratar');
    ({ processId, code } = await signContract(chat, user, 'contratar'));
  });
  afterAll(() => chat.close());

  it('records the whole process in order, and the chain recomputes from the API answer alone', async () => {
    const { events, head } = await evidence();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(recompute(events)).toBe(head);
    const types = events.map((e) => e.type);
    // The milestones, in their order (messages in and out between them).
    const milestones = types.filter((t) => !t.startsWith('message.'));
    expect(milestones).toEqual(['process.started', 'document.sent', 'document.confirmed', 'otp.created', 'otp.sent', 'otp.verified', 'signature.completed', 'process.finished']);
    expect(types.filter((t) => t === 'message.received')).toHaveLength(5);
    const first = events.find((e) => e.type === 'message.received')!.payload;
    expect(first).toMatchObject({ type: 'text', text: 'contratar' });
    // The person's opt-in: writing the inbound's message.
    expect(events[0]!.payload.opt_in).toEqual({ source: 'inbound_flow', message_id: first.message_id, provider_message_id: first.provider_message_id, at: first.sent_at });
    // Each message that answers a step carries what it answered; the first (the keyword that started it) answers none.
    const answers = events.filter((e) => e.type === 'message.received').map((e) => e.payload.answer as { step_id: string; outcome: string } | undefined);
    expect(answers[0]).toBeUndefined();
    expect(answers.slice(1).map((a) => a?.outcome)).toEqual(['accept', 'accept', 'stay', 'accept']);
    // What a step records while it judges an answer comes after the message: the right code, then otp.verified.
    expect(types[types.indexOf('otp.verified') - 1]).toBe('message.received');
    const signed = events.find((e) => e.type === 'signature.completed')!.payload;
    const result = await chat.process(user);
    expect(signed).toMatchObject({ signed_sha256: result.documents.signed.sha256, original_sha256: result.documents.original.sha256, level: 'B-B' });
    expect(events.at(-1)).toMatchObject({ type: 'process.finished', payload: { status: 'succeeded', failure_reason: null } });
    // Never the one-time code.
    expect(JSON.stringify(events)).not.toContain(code);
    // Each payload is stored as the exact text its hash covers (RFC 8785), and each time as the API shows it.
    const stored: Array<{ seq: number; payload: string; occurred_at: Date }> = await chat.t.db.query(
      `SELECT seq, payload::text AS payload, occurred_at FROM evidence_events WHERE process_id = $1 ORDER BY seq`,
      [processId],
    );
    expect(stored.map((r) => r.payload)).toEqual(events.map((e) => canonicalize(e.payload)));
    expect(stored.map((r) => r.occurred_at.toISOString())).toEqual(events.map((e) => e.occurred_at));
    // No certificate yet: its job has not run.
    expect(await verify()).toEqual({ valid: true, broken_at: null, checks: { chain: true, checkpoint: null, signed_document: true, certificate: null }, purged_at: null });
  });

  it('records a message whose text carries a lone surrogate (a \\ud800 escape in the webhook) with U+FFFD in its place, and goes on', async () => {
    const other = '+573006660002';
    await chat.say(other, 'contratar');
    await chat.say(other, 'no s\ud800');
    const started = await chat.process(other);
    const body = (await chat.t.http.get(`/v1/processes/${started.process_id}/evidence`).set(key).expect(200)).body as { events: Event[]; head: string };
    expect(recompute(body.events)).toBe(body.head);
    expect(body.events.filter((e) => e.type === 'message.received').map((e) => e.payload.text)).toEqual(['contratar', 'no s\ufffd']);
    expect((await chat.t.db.query(`SELECT count(*)::int AS n FROM webhook_events WHERE error IS NOT NULL`))[0].n).toBe(0);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the log from the service', async () => {
    await expect(chat.t.db.query(`UPDATE evidence_events SET type = 'x' WHERE process_id = $1`, [processId])).rejects.toThrow(/append-only/);
    await expect(chat.t.db.query(`DELETE FROM evidence_events WHERE process_id = $1`, [processId])).rejects.toThrow(/append-only/);
    await expect(chat.t.db.query(`TRUNCATE evidence_events`)).rejects.toThrow(/append-only/);
    expect(await verify()).toMatchObject({ valid: true });
  });

  it('reports a row tampered with behind the trigger at its seq, and a chain cut short at its end', async () => {
    const { events } = await evidence();
    const bypass = async (sql: string, params: unknown[]) => {
      await chat.t.db.query(`ALTER TABLE evidence_events DISABLE TRIGGER evidence_events_append_only`);
      try {
        await chat.t.db.query(sql, params);
      } finally {
        await chat.t.db.query(`ALTER TABLE evidence_events ENABLE TRIGGER evidence_events_append_only`);
      }
    };
    const original = events[2];
    await bypass(`UPDATE evidence_events SET payload = (payload::jsonb || '{"text": "otra cosa"}')::json WHERE process_id = $1 AND seq = 3`, [processId]);
    expect(await verify()).toEqual({ valid: false, broken_at: 3, checks: { chain: false, checkpoint: null, signed_document: true, certificate: null }, purged_at: null });
    await bypass(`UPDATE evidence_events SET payload = $2 WHERE process_id = $1 AND seq = 3`, [processId, JSON.stringify(original.payload)]);
    expect(await verify()).toMatchObject({ valid: true });

    // The last event removed: every row that is left verifies, but the chain no longer reaches the process's head.
    const last = events.at(-1)!;
    await bypass(`DELETE FROM evidence_events WHERE process_id = $1 AND seq = $2`, [processId, last.seq]);
    expect(await verify()).toEqual({ valid: false, broken_at: last.seq, checks: { chain: false, checkpoint: null, signed_document: true, certificate: null }, purged_at: null });
  });
});
