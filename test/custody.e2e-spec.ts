import { EvidenceCheckpoints } from '../src/modules/evidence/evidence-checkpoints.service.js';
import { CertificatesService } from '../src/modules/signature/certificates.service.js';
import { CustodyService } from '../src/modules/signature/custody.service.js';
import { contractingFlow, signContract, workContracting } from './support/contracting.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';

const DAY_MS = 86_400_000;

describe('custody: retention, legal hold, purge and erasure of evidence', () => {
  let chat: SandboxChat;
  let key: { 'X-API-Key': string };
  let purged: { processId: string; head: string; seq: number };
  let held: string;
  let signedDocumentId: string;
  const userA = '+573006680001';
  const userB = '+573006680002';

  const get = (path: string) => chat.t.http.get(path).set(key);
  const purgeDue = () => chat.t.app.get(CustodyService).purgeDue();

  beforeAll(async () => {
    chat = await sandboxChat();
    key = { 'X-API-Key': chat.apiKey };
    await contractingFlow(chat, 'firmar');
    const a = await signContract(chat, userA, 'firmar');
    held = (await signContract(chat, userB, 'firmar')).processId;
    await chat.t.app.get(CertificatesService).makeDue();
    const evidence = (await get(`/v1/processes/${a.processId}/evidence`).expect(200)).body;
    purged = { processId: a.processId, head: evidence.head, seq: evidence.events.length };
    signedDocumentId = (await get(`/v1/processes/${a.processId}`).expect(200)).body.documents.signed.document_id;
  });
  afterAll(() => chat.close());

  it('keeps 5 years by default, shown on the result; evidence_retention_days is validated and changes it', async () => {
    const p = (await get(`/v1/processes/${purged.processId}`).expect(200)).body;
    expect(p.custody).toEqual({ legal_hold: null, retained_until: new Date(Date.parse(p.finished_at) + 1825 * DAY_MS).toISOString(), purged_at: null });
    expect((await get('/v1/settings').expect(200)).body.evidence_retention_days).toBe(1825);

    for (const bad of [0, -3, 1.5, 'abc', 40_000]) {
      const res = await chat.t.http.patch('/v1/settings').set(key).send({ evidence_retention_days: bad }).expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'evidence_retention_days' })] });
    }
    const ok = await chat.t.http.patch('/v1/settings').set(key).type('form').send({ evidence_retention_days: '30' }).expect(200);
    expect(ok.body.evidence_retention_days).toBe(30);
    expect((await get(`/v1/processes/${purged.processId}`).expect(200)).body.custody.retained_until).toBe(new Date(Date.parse(p.finished_at) + 30 * DAY_MS).toISOString());
  });

  it('puts a process on legal hold (recorded in its evidence), and refuses an unknown one', async () => {
    const res = await chat.t.http.post(`/v1/processes/${held}/legal-hold`).set(key).send({ reason: 'Reclamo 2026-114' }).expect(200);
    expect(res.body).toMatchObject({ legal_hold: { reason: 'Reclamo 2026-114', held_at: expect.any(String) }, purged_at: null });
    const events = (await get(`/v1/processes/${held}/evidence`).expect(200)).body.events;
    expect(events.at(-1)).toMatchObject({ type: 'custody.legal_hold_set', payload: { reason: 'Reclamo 2026-114' } });
    await chat.t.http.post('/v1/processes/PRC01NOTAPROCESS/legal-hold').set(key).send({}).expect(404);
    await chat.t.http.post(`/v1/processes/${held}/legal-hold`).set(key).send({ reason: '' }).expect(400);
  });

  it('purges after retention what is not held: documents, payloads and personal data go, a tombstone keeps the head', async () => {
    // A signed checkpoint covers the process before the purge.
    const checkpoints = chat.t.app.get(EvidenceCheckpoints);
    await checkpoints.run({ wait: true }); // the leaves; the first checkpoint is due a period after them
    chat.t.clock.advance(61_000);
    expect(await checkpoints.run({ wait: true })).toBe(1);
    const anchored = (await get(`/v1/processes/${purged.processId}/evidence`).expect(200)).body;
    expect(anchored.checkpoint).toMatchObject({ seq: anchored.events.length });
    expect((await get(`/v1/processes/${purged.processId}/evidence/verify`).expect(200)).body.checks.checkpoint).toBe(true);
    purged.head = anchored.head;
    purged.seq = anchored.events.length;

    chat.t.clock.advance(29 * DAY_MS);
    expect(await purgeDue()).toBe(0);
    chat.t.clock.advance(2 * DAY_MS);
    expect(await purgeDue()).toBe(1);
    expect(await purgeDue()).toBe(0);

    const p = (await get(`/v1/processes/${purged.processId}`).expect(200)).body;
    expect(p).toMatchObject({ status: 'succeeded', phone: '+57 300 ••• 0001', answers: {}, history: [] });
    expect(p.custody.purged_at).toBe(chat.t.clock.now().toISOString());
    // The leaves stay: the same checkpoint and proof, and the tombstone's head still proves into it.
    expect((await get(`/v1/processes/${purged.processId}/evidence`).expect(200)).body).toEqual({
      process_id: purged.processId,
      events: [],
      head: purged.head,
      checkpoint: anchored.checkpoint,
      inclusion_proof: anchored.inclusion_proof,
      purged_at: p.custody.purged_at,
    });
    expect((await get(`/v1/processes/${purged.processId}/evidence/verify`).expect(200)).body).toMatchObject({
      valid: true,
      broken_at: null,
      checks: { chain: true, checkpoint: true },
    });
    expect((await get(`/v1/processes/${purged.processId}/evidence/certificate.pdf`).expect(410)).body).toMatchObject({ code: 'EVIDENCE_PURGED' });
    expect((await get(`/v1/processes/${purged.processId}/documents/signed.pdf`).expect(410)).body).toMatchObject({ code: 'EVIDENCE_PURGED' });
    await chat.t.http.post(`/v1/processes/${purged.processId}/legal-hold`).set(key).send({}).expect(410);

    // In the database: no events, one tombstone (append-only too), message contents and media gone, no code rows.
    const db = chat.t.db;
    expect(await db.query(`SELECT count(*)::int AS n FROM evidence_events WHERE process_id = $1`, [purged.processId])).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT seq, head FROM evidence_tombstones WHERE process_id = $1`, [purged.processId])).toEqual([{ seq: purged.seq, head: purged.head }]);
    await expect(db.query(`DELETE FROM evidence_tombstones WHERE process_id = $1`, [purged.processId])).rejects.toThrow(/append-only/);
    const contents: Array<{ content: unknown }> = await db.query(`SELECT content FROM messages WHERE conversation_id = $1`, [purged.processId]);
    expect(contents.length).toBeGreaterThan(5);
    expect(contents.every((c) => JSON.stringify(c.content) === '{"purged":true}')).toBe(true);
    expect(await db.query(`SELECT count(*)::int AS n FROM otp_challenges WHERE process_id = $1`, [purged.processId])).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM process_answers WHERE process_id = $1`, [purged.processId])).toEqual([{ n: 0 }]);
    // The signed copy is gone (the original upload, the tenant's, stays for its other processes).
    await get(`/v1/documents/${signedDocumentId}`).expect(404);
    expect(await db.query(`SELECT count(*)::int AS n FROM documents WHERE id = $1`, [signedDocumentId])).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT state, file_key FROM evidence_certificates WHERE process_id = $1`, [purged.processId])).toEqual([{ state: 'purged', file_key: null }]);

    // The held process is untouched.
    const heldEvidence = (await get(`/v1/processes/${held}/evidence`).expect(200)).body;
    expect(heldEvidence.events.length).toBeGreaterThan(10);
    expect((await get(`/v1/processes/${held}/evidence/verify`).expect(200)).body).toMatchObject({ valid: true });
  });

  it('purges a held process once its hold is released (the release recorded first)', async () => {
    const res = await chat.t.http.delete(`/v1/processes/${held}/legal-hold`).set(key).expect(200);
    expect(res.body.legal_hold).toBeNull();
    expect((await get(`/v1/processes/${held}/evidence`).expect(200)).body.events.at(-1)).toMatchObject({ type: 'custody.legal_hold_released' });
    expect(await purgeDue()).toBe(1);
    expect((await get(`/v1/processes/${held}`).expect(200)).body.custody.purged_at).not.toBeNull();
  });

  it("erases a person's data outside custody, records the request in the processes kept, and refuses a bad number", async () => {
    const user = '+573006680003';
    await chat.say(user, 'hola, ¿quién es?');
    await workContracting(chat);
    await chat.say(user, 'firmar');
    await workContracting(chat);
    const running = await chat.process(user);
    expect(running.status).toBe('pending');
    const loose: Array<{ n: number }> = await chat.t.db.query(`SELECT count(*)::int AS n FROM messages WHERE phone = $1 AND conversation_id IS NULL AND status <> 'queued'`, [
      user,
    ]);
    expect(loose[0].n).toBeGreaterThan(0);

    const res = await chat.t.http.post('/v1/privacy/erasure').set(key).send({ phone: user }).expect(200);
    expect(res.body).toEqual({ phone: '+57 300 ••• 0003', erased_messages: loose[0].n, kept_in_custody: [{ process_id: running.process_id, retained_until: null }] });
    expect(await chat.t.db.query(`SELECT count(*)::int AS n FROM messages WHERE phone = $1 AND conversation_id IS NULL AND status <> 'queued'`, [user])).toEqual([{ n: 0 }]);
    const events = (await get(`/v1/processes/${running.process_id}/evidence`).expect(200)).body.events;
    expect(events.at(-1)).toMatchObject({ type: 'privacy.erasure_requested', payload: { erased_messages: loose[0].n } });

    const bad = await chat.t.http.post('/v1/privacy/erasure').set(key).send({ phone: 'not a number' }).expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'phone' })] });
    await chat.t.http.post('/v1/privacy/erasure').set(key).send({}).expect(400);
  });
});
