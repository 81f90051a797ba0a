import canonicalize from 'canonicalize';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { EvidenceCheckpoint } from '../src/modules/evidence/entities/evidence-checkpoint.entity.js';
import { EvidenceCheckpoints } from '../src/modules/evidence/evidence-checkpoints.service.js';
import { verifyConsistency, verifyInclusion } from '../src/modules/evidence/merkle-tree.js';
import { startFakeTsa, type FakeTsa } from './fakes/fake-tsa.js';
import { HookReceiver } from './fakes/hook-receiver.js';
import { startBuiltService, type BuiltService } from './support/built-service.js';
import { contractingFlow, signContract } from './support/contracting.js';
import { sandboxChat, type SandboxChat } from './support/sandbox-chat.js';
import { until } from './support/until.js';

interface Checkpoint {
  tenant_id: string;
  tree_size: number;
  root_hash: string;
  issued_at: string;
  signature: string;
  signature_algorithm: string;
  timestamp_token: string | null;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'testigo-checkpoints-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What a client does with docs/evidence.md alone: rebuilds the signed JSON and has openssl check the signature. */
function opensslVerifies(c: Checkpoint, chainPem: string): boolean {
  const dir = mkdtempSync(path.join(tmp, 'sig-'));
  const f = (n: string) => path.join(dir, n);
  writeFileSync(f('checkpoint.json'), canonicalize({ tenant_id: c.tenant_id, tree_size: c.tree_size, root_hash: c.root_hash, issued_at: c.issued_at })!);
  writeFileSync(f('checkpoint.sig'), Buffer.from(c.signature, 'base64'));
  writeFileSync(f('chain.pem'), chainPem);
  // The first certificate of the chain is the signing certificate.
  writeFileSync(f('key.pem'), execFileSync('openssl', ['x509', '-in', f('chain.pem'), '-pubkey', '-noout']));
  try {
    return execFileSync('openssl', ['dgst', '-sha256', '-verify', f('key.pem'), '-signature', f('checkpoint.sig'), f('checkpoint.json')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes('Verified OK');
  } catch {
    return false;
  }
}

/** docs/snippets/verify-checkpoint.mjs run on the API's answer, as the docs tell a client to. */
function snippet(evidence: object, chainPem: string): { status: number | null; out: Record<string, unknown> } {
  const dir = mkdtempSync(path.join(tmp, 'snippet-'));
  writeFileSync(path.join(dir, 'evidence.json'), JSON.stringify(evidence));
  writeFileSync(path.join(dir, 'chain.pem'), chainPem);
  const run = spawnSync(process.execPath, ['docs/snippets/verify-checkpoint.mjs', path.join(dir, 'evidence.json'), path.join(dir, 'chain.pem')], { encoding: 'utf8' });
  return { status: run.status, out: JSON.parse(run.stdout) };
}

const leafOf = (eventHash: string) =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(Buffer.from(eventHash, 'hex'))
    .digest();
const hex = (xs: string[]) => xs.map((x) => Buffer.from(x, 'hex'));

describe('Merkle checkpoints of the evidence log', () => {
  let chat: SandboxChat;
  let key: { 'X-API-Key': string };
  let checkpoints: EvidenceCheckpoints;
  let first: { processId: string };
  let chainPem: string;
  const get = async (url: string, status = 200) => (await chat.t.http.get(url).set(key).expect(status)).body;
  /** A period later, the job's run (as the cron does it). */
  const checkpointNow = async () => {
    chat.t.clock.advance(61_000);
    return checkpoints.run({ wait: true });
  };

  beforeAll(async () => {
    chat = await sandboxChat();
    key = { 'X-API-Key': chat.apiKey };
    checkpoints = chat.t.app.get(EvidenceCheckpoints);
    chainPem = (await chat.t.http.get('/v1/signing/certificates').expect(200)).text;
    await contractingFlow(chat, 'contratar');
    first = await signContract(chat, '+573007770001', 'contratar');
  });
  afterAll(() => chat.close());

  it('issues no checkpoint before a period has passed, then one the evidence API shows with an inclusion proof a client checks', async () => {
    expect(await checkpoints.run({ wait: true })).toBe(0);
    const before = await get(`/v1/processes/${first.processId}/evidence`);
    expect(before).toMatchObject({ checkpoint: null, inclusion_proof: [] });
    expect((await get(`/v1/processes/${first.processId}/evidence/verify`)).checks.checkpoint).toBeNull();
    // The leaves were taken from the queue meanwhile.
    expect((await chat.t.db.query(`SELECT count(*)::int AS n FROM evidence_leaf_queue`))[0].n).toBe(0);

    expect(await checkpointNow()).toBe(1);
    expect(await checkpointNow()).toBe(0); // nothing added since
    const evidence = await get(`/v1/processes/${first.processId}/evidence`);
    const c = evidence.checkpoint;
    expect(c).toMatchObject({
      tenant_id: chat.tenantId,
      tree_size: evidence.events.length,
      seq: evidence.events.length,
      leaf_index: evidence.events.length - 1,
      timestamp_token: null,
    });
    const last = evidence.events.at(-1);
    expect(verifyInclusion(leafOf(last.hash), c.leaf_index, c.tree_size, hex(evidence.inclusion_proof), Buffer.from(c.root_hash, 'hex'))).toBe(true);
    expect(verifyInclusion(leafOf(evidence.events[0].hash), c.leaf_index, c.tree_size, hex(evidence.inclusion_proof), Buffer.from(c.root_hash, 'hex'))).toBe(false);
    expect(evidence.inclusion_proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(c.tree_size)));
    expect(opensslVerifies(c, chainPem)).toBe(true);
    expect(opensslVerifies({ ...c, tree_size: c.tree_size + 1 }, chainPem)).toBe(false);
    expect(snippet(evidence, chainPem)).toEqual({ status: 0, out: { tree_size: c.tree_size, seq: c.seq, signature: true, inclusion: true } });
    expect(await get(`/v1/processes/${first.processId}/evidence/verify`)).toEqual({
      valid: true,
      broken_at: null,
      checks: { chain: true, checkpoint: true, signed_document: true, certificate: null },
      purged_at: null,
    });
  });

  it('lists checkpoints newest first with cursors, and proves each later tree extends the earlier one, also after a payload purge', async () => {
    const second = await signContract(chat, '+573007770002', 'contratar');
    expect(await checkpointNow()).toBe(1);
    const page1 = await get('/v1/evidence/checkpoints?limit=1');
    expect(page1.data).toHaveLength(1);
    const page2 = await get(`/v1/evidence/checkpoints?limit=1&cursor=${page1.next_cursor}`);
    expect(page2).toMatchObject({ next_cursor: null });
    const [later, earlier] = [page1.data[0] as Checkpoint, page2.data[0] as Checkpoint];
    expect(later.tree_size).toBeGreaterThan(earlier.tree_size);
    expect(opensslVerifies(later, chainPem)).toBe(true);

    const consistent = async () => {
      const proof = await get(`/v1/evidence/checkpoints/${later.tree_size}/consistency?from=${earlier.tree_size}`);
      expect(proof).toMatchObject({ from: earlier.tree_size, from_root_hash: earlier.root_hash, tree_size: later.tree_size, root_hash: later.root_hash });
      return verifyConsistency(earlier.tree_size, later.tree_size, Buffer.from(earlier.root_hash, 'hex'), Buffer.from(later.root_hash, 'hex'), hex(proof.proof));
    };
    expect(await consistent()).toBe(true);
    // Any earlier size: the root it answers is the one the first process's leaves give.
    const some = await get(`/v1/evidence/checkpoints/${later.tree_size}/consistency?from=3`);
    expect(verifyConsistency(3, later.tree_size, Buffer.from(some.from_root_hash, 'hex'), Buffer.from(later.root_hash, 'hex'), hex(some.proof))).toBe(true);

    // A retention purge: the payloads of a process go (its own transaction, with the purge setting); the hashes stay.
    const seqs = (await get(`/v1/processes/${second.processId}/evidence`)).events.length;
    expect(await checkpoints.coverage(chat.t.db.manager, chat.tenantId, second.processId)).toEqual({ leaf: seqs, checkpointed: seqs });
    await chat.t.db.transaction(async (m) => {
      await m.query(`SET LOCAL testigo.evidence_purge = 'on'`);
      await m.query(`UPDATE evidence_events SET payload = '{"purged": true}'::json WHERE process_id = $1`, [second.processId]);
    });
    expect((await get(`/v1/processes/${second.processId}/evidence`)).events[0].payload).toEqual({ purged: true });
    expect((await get(`/v1/processes/${second.processId}/evidence/verify`)).checks).toMatchObject({ chain: false, checkpoint: true });
    expect(await consistent()).toBe(true);
    expect(await get('/v1/evidence/checkpoints')).toMatchObject({ data: [later, earlier] });
  });

  it('refuses bad sizes, unknown checkpoints and other tenants', async () => {
    const [latest] = (await get('/v1/evidence/checkpoints')).data as Checkpoint[];
    const tooFar = await get(`/v1/evidence/checkpoints/${latest.tree_size}/consistency?from=${latest.tree_size + 1}`, 400);
    expect(tooFar).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'from' }] });
    expect(await get(`/v1/evidence/checkpoints/${latest.tree_size}/consistency?from=0`, 400)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'from' }] });
    expect(await get(`/v1/evidence/checkpoints/${latest.tree_size}/consistency`, 400)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'from' }] });
    expect(await get(`/v1/evidence/checkpoints/abc/consistency?from=1`, 400)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'tree_size' }] });
    expect(await get(`/v1/evidence/checkpoints/${latest.tree_size - 1}/consistency?from=1`, 404)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await get('/v1/evidence/checkpoints?cursor=PRC01JD3V6Q4T1Z0K6M3P9X2Y5B7C', 400)).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'cursor' }] });
    const other = await chat.t.newTenant('Otra');
    expect((await chat.t.http.get('/v1/evidence/checkpoints').set('X-API-Key', other.apiKey).expect(200)).body).toEqual({ data: [], next_cursor: null });
    await chat.t.http.get(`/v1/evidence/checkpoints/${latest.tree_size}/consistency?from=1`).set('X-API-Key', other.apiKey).expect(404);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of leaves, nodes and checkpoints, with or without the purge setting', async () => {
    for (const table of ['evidence_leaves', 'evidence_tree_nodes', 'evidence_checkpoints']) {
      const column = table === 'evidence_checkpoints' ? 'tree_size' : 'tenant_id';
      await expect(chat.t.db.query(`UPDATE ${table} SET ${column} = ${column}`)).rejects.toThrow(/append-only/);
      await expect(chat.t.db.query(`DELETE FROM ${table}`)).rejects.toThrow(/append-only/);
      await expect(chat.t.db.query(`TRUNCATE ${table}`)).rejects.toThrow(/append-only/);
      await expect(
        chat.t.db.transaction(async (m) => {
          await m.query(`SET LOCAL testigo.evidence_purge = 'on'`);
          await m.query(`DELETE FROM ${table}`);
        }),
      ).rejects.toThrow(/append-only/);
    }
  });

  it('takes an event that commits after one with a larger id on a later run: no event is skipped', async () => {
    const insert = (processId: string) =>
      `INSERT INTO evidence_events (tenant_id, process_id, seq, type, occurred_at, payload, prev_hash, hash)
       VALUES ('${chat.tenantId}', '${processId}', 1, 'test', now(), '{}', '${'0'.repeat(64)}', '${createHash('sha256').update(processId).digest('hex')}') RETURNING id`;
    const slow = chat.t.db.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    try {
      const [{ id: slowId }] = await slow.query(insert('PRCslow'));
      const [{ id: fastId }] = await chat.t.db.query(insert('PRCfast'));
      expect(Number(slowId)).toBeLessThan(Number(fastId));
      await checkpoints.run({ wait: true });
      const leaves = async () =>
        (await chat.t.db.query(`SELECT process_id FROM evidence_leaves WHERE process_id IN ('PRCslow', 'PRCfast') ORDER BY leaf_index`)).map(
          (r: { process_id: string }) => r.process_id,
        );
      expect(await leaves()).toEqual(['PRCfast']);
      await slow.commitTransaction();
      await checkpoints.run({ wait: true });
      expect(await leaves()).toEqual(['PRCfast', 'PRCslow']);
    } finally {
      if (slow.isTransactionActive) await slow.rollbackTransaction();
      await slow.release();
    }
    // Two runs at once (two instances): every queued event becomes exactly one leaf.
    for (let i = 0; i < 20; i++) await chat.t.db.query(insert(`PRCmany${i}`));
    await Promise.all([checkpoints.run(), checkpoints.run({ wait: true }), checkpoints.run({ wait: true })]);
    const [{ n, distinct, max }] = await chat.t.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct, max(leaf_index)::int AS max FROM evidence_leaves WHERE tenant_id = $1`,
      [chat.tenantId],
    );
    expect([n, distinct, max + 1]).toEqual([n, n, n]);
    expect((await chat.t.db.query(`SELECT count(*)::int AS n FROM evidence_events WHERE tenant_id = $1`, [chat.tenantId]))[0].n).toBe(n);
  });

  it('keeps the certificate each checkpoint was signed under; one re-signed under a certificate our CA did not issue fails', async () => {
    const [c] = await chat.t.db.getRepository(EvidenceCheckpoint).find({ where: { tenantId: chat.tenantId }, order: { treeSize: 'DESC' }, take: 1 });
    const current = new X509Certificate(chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25));
    expect(new X509Certificate(Buffer.from(c!.signingCertificate!, 'base64')).raw.equals(current.raw)).toBe(true);
    expect(await checkpoints.signatureValid(c!)).toBe(true);
    expect((await get('/v1/evidence/checkpoints')).data[0]).toMatchObject({ tree_size: c!.treeSize, signing_certificate: c!.signingCertificate });

    // Someone with the database's keys signs the statement with a key of their own and stores its certificate beside it.
    const dir = mkdtempSync(path.join(tmp, 'forger-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`, '-subj', '/CN=Testigo signing', '-days', '2'], {
      stdio: 'ignore',
    });
    const statement = canonicalize({ tenant_id: c!.tenantId, tree_size: c!.treeSize, root_hash: c!.rootHash, issued_at: c!.issuedAt.toISOString() })!;
    const forged = sign('sha256', Buffer.from(statement), readFileSync(`${dir}/k.pem`));
    const forgedCert = new X509Certificate(readFileSync(`${dir}/c.pem`));
    expect(await checkpoints.signatureValid({ ...c!, signature: forged.toString('base64'), signingCertificate: forgedCert.raw.toString('base64') })).toBe(false);
    // Without a kept certificate (checkpoints made before they were), the current one is used: the forgery fails too.
    expect(await checkpoints.signatureValid({ ...c!, signature: forged.toString('base64'), signingCertificate: null })).toBe(false);
    expect(await checkpoints.signatureValid({ ...c!, signingCertificate: null })).toBe(true);
  });

  it('catches a whole chain rewritten consistently behind the trigger: the chain verifies by itself, the signed checkpoint does not', async () => {
    expect(await checkpointNow()).toBe(1);
    const { events } = await get(`/v1/processes/${first.processId}/evidence`);
    expect((await get(`/v1/processes/${first.processId}/evidence/verify`)).checks.checkpoint).toBe(true);
    // A superuser rewrites the story from seq 2 on, recomputing every hash so that the chain holds together.
    let prev = events[0].hash as string;
    await chat.t.db.query(`ALTER TABLE evidence_events DISABLE TRIGGER evidence_events_append_only`);
    try {
      for (const e of events.slice(1)) {
        const payload = e.seq === 2 ? { ...e.payload, text: 'otra cosa' } : e.payload;
        const hash = createHash('sha256')
          .update(Buffer.from(prev, 'hex'))
          .update(canonicalize({ seq: e.seq, type: e.type, occurred_at: e.occurred_at, payload })!, 'utf8')
          .digest('hex');
        await chat.t.db.query(`UPDATE evidence_events SET payload = $3, prev_hash = $4, hash = $5 WHERE process_id = $1 AND seq = $2`, [
          first.processId,
          e.seq,
          JSON.stringify(payload),
          prev,
          hash,
        ]);
        prev = hash;
      }
    } finally {
      await chat.t.db.query(`ALTER TABLE evidence_events ENABLE TRIGGER evidence_events_append_only`);
    }
    await chat.t.db.query(`UPDATE processes SET evidence_head = $2 WHERE id = $1`, [first.processId, prev]);
    expect(snippet(await get(`/v1/processes/${first.processId}/evidence`), chainPem)).toMatchObject({ status: 1, out: { signature: true, inclusion: false } });
    expect(await get(`/v1/processes/${first.processId}/evidence/verify`)).toEqual({
      valid: false,
      broken_at: null,
      checks: { chain: true, checkpoint: false, signed_document: true, certificate: null },
      purged_at: null,
    });
  });

  it('queues again every event that is not a leaf when a database crash emptied the (unlogged) leaf queue; the tree stays whole', async () => {
    const insert = (processId: string) =>
      chat.t.db.query(
        `INSERT INTO evidence_events (tenant_id, process_id, seq, type, occurred_at, payload, prev_hash, hash)
         VALUES ($1, $2, 1, 'test', now(), '{}', $3, $4)`,
        [chat.tenantId, processId, '0'.repeat(64), createHash('sha256').update(processId).digest('hex')],
      );
    const [{ persistence }] = await chat.t.db.query(`SELECT relpersistence AS persistence FROM pg_class WHERE relname = 'evidence_leaf_queue'`);
    expect(persistence).toBe('u');
    await checkpointNow();
    const before = (await get('/v1/evidence/checkpoints')).data[0];
    for (let i = 0; i < 5; i++) await insert(`PRClost${i}`);
    // What crash recovery does to unlogged tables; then an event appended after the restart, queued by its INSERT.
    await chat.t.db.query(`TRUNCATE evidence_leaf_queue, evidence_leaf_queue_intact`);
    await insert('PRCafter');
    expect(await checkpointNow()).toBe(1);
    const counts = async () =>
      (
        await chat.t.db.query(
          `SELECT (SELECT count(*)::int FROM evidence_events WHERE tenant_id = $1) AS events,
                  (SELECT count(*)::int FROM evidence_leaves WHERE tenant_id = $1) AS leaves,
                  (SELECT count(*)::int FROM evidence_leaf_queue) AS queued,
                  (SELECT count(*)::int FROM evidence_leaf_queue_intact) AS intact`,
          [chat.tenantId],
        )
      )[0];
    const after = await counts();
    expect(after).toEqual({ events: after.leaves, leaves: before.tree_size + 6, queued: 0, intact: 1 });
    const latest = (await get('/v1/evidence/checkpoints')).data[0];
    expect(latest.tree_size).toBe(before.tree_size + 6);
    const proof = await get(`/v1/evidence/checkpoints/${latest.tree_size}/consistency?from=${before.tree_size}`);
    expect(verifyConsistency(before.tree_size, latest.tree_size, Buffer.from(before.root_hash, 'hex'), Buffer.from(latest.root_hash, 'hex'), hex(proof.proof))).toBe(true);
    // Once filled again, the queue is not scanned again: a run with nothing new changes nothing.
    await checkpoints.run({ wait: true });
    expect(await counts()).toEqual(after);
  });
});

describe('Merkle checkpoints in the built service', () => {
  let svc: BuiltService;
  let tsa: FakeTsa;
  const receiver = new HookReceiver();

  beforeAll(async () => {
    [tsa] = await Promise.all([startFakeTsa(), receiver.start()]);
    svc = await startBuiltService({ EVIDENCE_CHECKPOINT_SECONDS: '1', TSA_URL: tsa.url, SANDBOX_STATUS_DELAY_MS: '0' });
  });
  afterAll(async () => {
    await svc.stop();
    await Promise.all([tsa.close(), receiver.stop()]);
  });

  it('sends each checkpoint as the evidence.checkpoint hook, signed so that openssl verifies it, its signature time-stamped', async () => {
    const key = { 'X-API-Key': (await svc.newTenant('Seguros')).apiKey };
    const hook = await svc.request('POST', '/v1/hooks', { headers: key, body: { url: receiver.url, events: ['evidence.checkpoint'] } });
    expect(hook.status).toBe(201);
    expect((await svc.request('POST', '/v1/whatsapp/numbers', { headers: key, body: { phone_number: '+14155550124', provider: 'sandbox' } })).status).toBe(201);
    const flow = await svc.request('POST', '/v1/flows', {
      headers: key,
      body: {
        name: 'Hola',
        steps: [
          { id: 'terms', type: 'consent', text: '¿Aceptas el tratamiento de tus datos?' },
          { id: 'ok', type: 'end', outcome: 'succeeded', text: 'Gracias' },
        ],
      },
    });
    expect(flow.status).toBe(201);
    expect(
      (await svc.request('POST', '/v1/whatsapp/inbounds', { headers: key, body: { waba_phone_number: '+14155550124', flow_id: flow.body.id, inbound_message: 'hola' } })).status,
    ).toBe(201);
    expect((await svc.request('POST', '/v1/sandbox/messages', { headers: key, body: { waba_phone_number: '+14155550124', from: '+573008880001', text: 'hola' } })).status).toBe(
      202,
    );

    const delivery = await until('the evidence.checkpoint hook', async () => receiver.requests.find((r) => JSON.parse(r.body).type === 'evidence.checkpoint'), 30_000);
    const event = new Webhook(hook.body.secret).verify(delivery.body, delivery.headers as Record<string, string>) as { data: Checkpoint };
    const c = event.data;
    expect(c.tree_size).toBeGreaterThan(0);
    const chainPem = (await (await fetch(`${svc.url}/v1/signing/certificates`)).text()) as string;
    expect(opensslVerifies(c, chainPem)).toBe(true);
    expect(c.timestamp_token).toEqual(expect.any(String));
    writeFileSync(path.join(tmp, 'token.der'), Buffer.from(c.timestamp_token!, 'base64'));
    writeFileSync(path.join(tmp, 'signature.bin'), Buffer.from(c.signature, 'base64'));
    const ts = execFileSync(
      'openssl',
      ['ts', '-verify', '-token_in', '-in', path.join(tmp, 'token.der'), '-data', path.join(tmp, 'signature.bin'), '-CAfile', tsa.caFile, '-untrusted', tsa.certFile],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(ts).toContain('Verification: OK');
    // The copy the client holds is the one the API lists.
    const listed = await svc.request('GET', '/v1/evidence/checkpoints', { headers: key });
    expect(listed.body.data).toContainEqual(c);
  });
});
