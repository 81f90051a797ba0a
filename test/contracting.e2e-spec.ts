import { PDF } from '@libpdf/core';
import { Jobs } from '../src/common/jobs/jobs.service.js';
import { ContractsService } from '../src/modules/signature/contracts.service.js';
import { OtpService } from '../src/modules/signature/otp.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { sandboxChat, SandboxChat, SANDBOX_LINE } from './support/sandbox-chat.js';
import { contractPdf, sha256 } from './support/pdfs.js';

/** A contracting flow: the contract, the conditions, a code by SMS, the signature. */
const contractFlow = (documentStep: Record<string, unknown> = {}) => ({
  name: 'Contrato',
  steps: [
    { id: 'doc', type: 'document', text: 'Tu contrato de seguro', ...documentStep },
    { id: 'terms', type: 'consent', text: '¿Aceptas las condiciones del contrato?' },
    { id: 'code', type: 'otp', channel: 'sms' },
    { id: 'sign', type: 'signature' },
    { id: 'done', type: 'end', outcome: 'succeeded', text: 'Listo, gracias.' },
  ],
});

describe('certified contracting: document, one-time code, signature', () => {
  let chat: SandboxChat;
  let key: { 'X-API-Key': string };
  let contract: Uint8Array;
  let documentId: string;
  let userSeq = 0;
  const newUser = () => `+57300777${String(1000 + ++userSeq)}`;

  /** Everything due: the chat's workers, then the codes' and signatures' jobs, then the sends they queued. */
  const work = async () => {
    await chat.work();
    await chat.t.app.get(OtpService).deliverDue();
    await chat.t.app.get(ContractsService).signDue();
    await chat.t.app.get(SendQueueService).drain();
  };
  const say = async (from: string, what: Parameters<SandboxChat['say']>[1]) => {
    await chat.say(from, what);
    await work();
  };
  const smsTo = async (phone: string): Promise<Array<{ to: string; body: string }>> => (await chat.t.http.get('/v1/sandbox/sms').query({ phone }).set(key).expect(200)).body.data;
  const lastCode = async (phone: string) => /\b(\d{6})\b/.exec((await smsTo(phone))[0].body)![1];
  const texts = async (phone: string) => (await chat.bot(phone)).map((m) => (m.body ?? m.caption ?? '') as string);

  /** Starts the flow for a new user by its inbound message and walks to the code: document confirmed, terms accepted. */
  async function toTheCode(flowId: string, message: string): Promise<string> {
    const user = newUser();
    await say(user, message);
    await say(user, { reply_id: 'document:reviewed' });
    await say(user, { reply_id: 'consent:accept' });
    return user;
  }

  /** An invitation outbound on the sandbox line ("Firmar" continues), approved by the sandbox's submission. */
  async function approvedInvitation(content: string, example?: string): Promise<string> {
    const outbound = await chat.t.http
      .post('/v1/whatsapp/outbounds')
      .set(key)
      .type('form')
      .send({
        waba_phone_number: SANDBOX_LINE,
        is_notification: 'false',
        content,
        category: 'ACCOUNT_UPDATE',
        template_type: 'TEXT',
        language_code: 'es',
        options: JSON.stringify([
          { message: 'Firmar', action: 'continue_process' },
          { message: 'Ahora no', action: 'cancel_process' },
        ]),
        ...(example ? { example_params: example } : {}),
      })
      .expect(201);
    await chat.t.app.get(Jobs).runDue('template.submit');
    return outbound.body.outbound_id;
  }

  beforeAll(async () => {
    chat = await sandboxChat();
    key = { 'X-API-Key': chat.apiKey };
    await chat.t.http
      .patch('/v1/settings')
      .set(key)
      .send({ sms: { provider: 'sandbox' } })
      .expect(200);
    await chat.t.http
      .post('/v1/hooks')
      .set(key)
      .send({ url: 'https://hooks.example.com/testigo', events: ['signature.completed', 'process.succeeded'] })
      .expect(201);
    contract = await contractPdf(3);
    const up = await chat.t.http.post('/v1/documents').query({ title: 'Póliza hogar' }).set(key).set('Content-Type', 'application/pdf').send(Buffer.from(contract)).expect(201);
    documentId = up.body.document_id;
  });
  afterAll(() => chat.close());

  it('runs an invitation with a document to a signed PDF in the chat: confirm, accept, a wrong code, the right one', async () => {
    const flowId = await chat.flow(contractFlow());
    const outboundId = await approvedInvitation('Hola {{1}}, tu contrato está listo para firmar.', 'Ana');
    const user = newUser();
    const send = await chat.t.http
      .post('/v1/whatsapp/outbounds/send')
      .set(key)
      .type('form')
      .send({
        phone_number: user.slice(3),
        country_code: '57',
        outbound_id: outboundId,
        flow_id: flowId,
        user_authorized: 'true',
        outbound_params: 'María José',
        document_id: documentId,
        signer_name: 'María José Pérez Núñez',
      })
      .expect(201);
    expect(send.body.document_id).toBe(documentId);
    await work();
    const invitation = await chat.lastBot(user);
    expect(invitation).toMatchObject({ kind: 'template' });
    await say(user, { reply_id: (invitation.buttonPayloads as string[])[0] });

    // The contract arrives as a PDF document with the step's caption, then the question.
    const [file, question] = (await chat.bot(user)).slice(-2);
    expect(file).toMatchObject({ kind: 'file', mediaType: 'document', caption: 'Tu contrato de seguro' });
    expect(question).toMatchObject({ kind: 'buttons', body: '¿Recibiste el documento y lo revisaste?' });
    await say(user, { reply_id: 'document:reviewed' });
    await say(user, { reply_id: 'consent:accept' });

    // The code goes by SMS to the person's own number; the chat says where, masked.
    expect(await chat.lastBot(user)).toMatchObject({ kind: 'text', body: expect.stringContaining('por SMS al +57 300 ••• ') });
    const sms = await smsTo(user);
    expect(sms).toHaveLength(1);
    expect(sms[0].to).toBe(user);
    const code = /\b(\d{6})\b/.exec(sms[0].body)![1];

    const wrong = code === '000000' ? '111111' : '000000';
    await say(user, wrong);
    expect(await chat.lastBot(user)).toMatchObject({ body: 'El código no es correcto. Te quedan 2 intentos.' });
    let result = await chat.process(user);
    expect(result.status).toBe('pending');
    expect(result.otp).toMatchObject({ channel: 'sms', status: 'sent', attempts: 1, resends: 0, verified_at: null });

    await say(user, code);
    result = await chat.process(user);
    expect(result.status).toBe('succeeded');
    expect(result.otp).toMatchObject({ status: 'verified', attempts: 1 });
    expect(result.documents.original).toEqual({ document_id: documentId, sha256: sha256(contract), confirmed_at: expect.any(String) });
    expect(result.documents.signed).toMatchObject({ document_id: expect.stringMatching(/^DOC/), level: 'B-B' });
    expect(result.documents.signing).toEqual({ state: 'signed', error: null });

    // The signed copy went back in the chat, then the flow's end.
    const [signed, end] = (await chat.bot(user)).slice(-2);
    expect(signed).toMatchObject({ kind: 'file', mediaType: 'document', caption: 'Este es tu documento firmado electrónicamente.' });
    expect(end).toMatchObject({ kind: 'text', body: 'Listo, gracias.' });
    const pdf = await chat.t.http.get(`/v1/processes/${result.process_id}/documents/signed.pdf`).set(key).buffer(true).expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(sha256(pdf.body)).toBe(result.documents.signed.sha256);
    expect(pdf.headers.etag).toBe(`"${result.documents.signed.sha256}"`);
    const loaded = await PDF.load(new Uint8Array(pdf.body));
    expect(loaded.getPages()).toHaveLength(4);
    // The signed copy is a document of the tenant's too, derived from the original, which stays as it was.
    const again = await chat.t.http.get(`/v1/documents/${documentId}/content`).set(key).buffer(true).expect(200);
    expect(sha256(again.body)).toBe(sha256(contract));

    // signature.completed carries the process result with its documents, as the results API shows them.
    const [hook] = await chat.t.db.query(`SELECT data FROM hook_events WHERE type = 'signature.completed' AND data->>'process_id' = $1`, [result.process_id]);
    expect(hook.data.documents).toEqual(result.documents);

    // The code is in no result, hook or answer; its sealed copy is gone once delivered.
    const dump = JSON.stringify(result) + JSON.stringify((await chat.t.db.query(`SELECT data FROM hook_events`)).map((r: { data: unknown }) => r.data));
    expect(dump).not.toContain(code);
    const answers = await chat.t.db.query(`SELECT value FROM process_answers WHERE process_id = $1`, [result.process_id]);
    expect(answers.map((a: { value: string }) => a.value)).not.toContain(code);
    const [row] = await chat.t.db.query(`SELECT code_hmac, code_sealed FROM otp_challenges WHERE process_id = $1`, [result.process_id]);
    expect(row.code_sealed).toBeNull();
    expect(row.code_hmac).not.toContain(code);
  });

  it('refuses a contracting flow it cannot run: an unknown document, no SMS settings, a signature without a document', async () => {
    const other = await chat.t.newTenant('Otra');
    const otherKey = { 'X-API-Key': other.apiKey };
    const bad = async (k: Record<string, string>, body: object) => (await chat.t.http.post('/v1/flows').set(k).send(body).expect(400)).body;

    // Another tenant's document is unknown here, as an unknown id is.
    let body = await bad(otherKey, { ...contractFlow({ document_id: documentId }), steps: contractFlow({ document_id: documentId }).steps.filter((s) => s.type !== 'otp') });
    expect(body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'steps[0].document_id' })]));
    body = await bad(key, contractFlow({ document_id: 'DOC_NOPE' }));
    expect(body.details).toEqual([expect.objectContaining({ field: 'steps[0].document_id' })]);
    // An SMS code on a tenant without SMS settings.
    body = await bad(otherKey, contractFlow());
    expect(body.details).toEqual([expect.objectContaining({ field: 'steps[2].channel', messages: [expect.stringContaining('SMS settings')] })]);
    body = await bad(key, {
      name: 'x',
      steps: [
        { id: 'sign', type: 'signature' },
        { id: 'end', type: 'end', outcome: 'succeeded', text: 'ok' },
      ],
    });
    expect(body.details).toEqual([expect.objectContaining({ field: 'steps[0].document_step' })]);
    body = await bad(key, {
      name: 'x',
      steps: [
        { id: 'doc', type: 'document', text: 'Contrato', document_id: documentId, filename: 'contrato.docx' },
        { id: 'code', type: 'otp', channel: 'sms', resend_keywords: [] },
        { id: 'sign', type: 'signature', signer_name_step: 'doc' },
        { id: 'end', type: 'end', outcome: 'succeeded', text: 'ok' },
      ],
    });
    expect(body.details.map((d: { field: string }) => d.field).sort()).toEqual(['steps[0].filename', 'steps[1].resend_keywords']);
    // The signature's own references are checked against the flow once its shape is right.
    body = await bad(key, {
      name: 'x',
      steps: [
        { id: 'doc', type: 'document', text: 'Contrato', document_id: documentId },
        { id: 'sign', type: 'signature', signer_name_step: 'doc' },
        { id: 'end', type: 'end', outcome: 'succeeded', text: 'ok' },
      ],
    });
    expect(body.details).toEqual([expect.objectContaining({ field: 'steps[1].signer_name_step' })]);
    body = await bad(key, {
      name: 'x',
      steps: [
        { id: 'code', type: 'otp', channel: 'fax' },
        { id: 'end', type: 'end', outcome: 'succeeded', text: 'ok' },
      ],
    });
    expect(body.details).toEqual([expect.objectContaining({ field: 'steps[0].channel' })]);
  });

  it('refuses a send with an unknown or foreign document, or without the document its flow needs', async () => {
    const flowId = await chat.flow(contractFlow());
    const other = await chat.t.newTenant('Ajena');
    const foreign = await chat.t.http.post('/v1/documents').set({ 'X-API-Key': other.apiKey }).set('Content-Type', 'application/pdf').send(Buffer.from(contract)).expect(201);
    const outboundId = await approvedInvitation('Hola, tu contrato está listo para firmar hoy.');
    const send = (extra: Record<string, string>) =>
      chat.t.http
        .post('/v1/whatsapp/outbounds/send')
        .set(key)
        .type('form')
        .send({ phone_number: '3007770999', country_code: '57', outbound_id: outboundId, flow_id: flowId, user_authorized: 'true', ...extra });
    for (const id of ['DOC_NOPE', foreign.body.document_id]) {
      const res = await send({ document_id: id }).expect(400);
      expect(res.body).toMatchObject({ code: 'UNKNOWN_DOCUMENT', details: [expect.objectContaining({ field: 'document_id' })] });
    }
    expect((await send({}).expect(400)).body).toMatchObject({ code: 'DOCUMENT_REQUIRED', details: [expect.objectContaining({ field: 'document_id' })] });
    expect((await send({ signer_name: 'Ana' }).expect(400)).body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'signer_name' })]));
  });

  describe('one-time codes', () => {
    let flowId: string;
    beforeAll(async () => {
      flowId = await chat.flow({
        name: 'Código',
        steps: [
          { id: 'doc', type: 'document', text: 'Contrato', document_id: documentId },
          { id: 'terms', type: 'consent', text: '¿Aceptas?' },
          { id: 'code', type: 'otp', channel: 'sms', ttl_minutes: 5, max_attempts: 2, max_resends: 1 },
          { id: 'sign', type: 'signature', text: 'Firmado.' },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Fin.' },
        ],
      });
      await chat.inbound(flowId, 'quiero firmar');
    });

    it('an expired code is told so, a resend brings a new one that works, and resends stop at the limit', async () => {
      const user = await toTheCode(flowId, 'quiero firmar');
      const first = await lastCode(user);
      chat.t.clock.advance(5 * 60_000 + 1);
      await say(user, first);
      expect(await chat.lastBot(user)).toMatchObject({ body: 'El código caducó. Escribe «reenviar» para recibir uno nuevo.' });
      await say(user, 'Reenviar');
      expect(await chat.lastBot(user)).toMatchObject({ body: 'Te enviamos un código nuevo.' });
      expect(await smsTo(user)).toHaveLength(2);
      const second = await lastCode(user);
      // The old code no longer counts, even in time.
      if (second !== first) {
        await say(user, first);
        expect(await chat.lastBot(user)).toMatchObject({ body: 'El código no es correcto. Te quedan 1 intentos.' });
      }
      await say(user, 'reenviar');
      expect(await chat.lastBot(user)).toMatchObject({ body: 'Ya no quedan reenvíos. Escribe el último código que recibiste.' });
      expect(await smsTo(user)).toHaveLength(2);
      await say(user, second);
      const result = await chat.process(user);
      expect(result).toMatchObject({ status: 'succeeded', otp: { status: 'verified', resends: 1 } });
      expect((await texts(user)).slice(-2)).toEqual(['Firmado.', 'Fin.']);
    });

    it('wrong codes up to max_attempts end the process as failed (otp_failed); text that is no code costs nothing', async () => {
      const user = await toTheCode(flowId, 'quiero firmar');
      const code = await lastCode(user);
      await say(user, 'no me llegó nada');
      expect((await chat.process(user)).otp).toMatchObject({ attempts: 0 });
      const wrong = code === '123456' ? '654321' : '123456';
      await say(user, wrong);
      await say(user, wrong);
      const result = await chat.process(user);
      expect(result).toMatchObject({ status: 'failed', failure_reason: 'otp_failed', otp: { status: 'failed', attempts: 2 }, documents: { signed: null } });
      // Nothing was signed: the signed PDF is a 409 that says where signing stands; an unknown process is a 404.
      const pdf = await chat.t.http.get(`/v1/processes/${result.process_id}/documents/signed.pdf`).set(key).expect(409);
      expect(pdf.body).toMatchObject({ code: 'DOCUMENT_NOT_SIGNED', details: { signing_state: 'none' } });
      await chat.t.http.get('/v1/processes/PRC_NOPE/documents/signed.pdf').set(key).expect(404);
    });

    it('an expired code with no resend left fails the process', async () => {
      const user = await toTheCode(flowId, 'quiero firmar');
      await say(user, 'reenviar');
      chat.t.clock.advance(5 * 60_000 + 1);
      await say(user, await lastCode(user));
      expect(await chat.process(user)).toMatchObject({ status: 'failed', failure_reason: 'otp_failed' });
    });

    it('declining the document ends the process as failed (document_rejected)', async () => {
      const user = newUser();
      await say(user, 'quiero firmar');
      await say(user, { reply_id: 'document:rejected' });
      expect(await chat.process(user)).toMatchObject({ status: 'failed', failure_reason: 'document_rejected', documents: { original: { confirmed_at: null } } });
    });
  });

  it('signs once: a signing job run again after it finished sends no second copy', async () => {
    const flowId = await chat.flow({ ...contractFlow({ document_id: documentId }), name: 'Una vez' });
    await chat.inbound(flowId, 'firmar una vez');
    const user = await toTheCode(flowId, 'firmar una vez');
    await say(user, await lastCode(user));
    const result = await chat.process(user);
    expect(result.status).toBe('succeeded');
    // As if the worker had died after its work but before the job was marked done.
    await chat.t.db.query(`UPDATE jobs SET status = 'pending', run_at = now() - interval '1 day' WHERE queue = 'contract.sign' AND key LIKE $1`, [`${result.process_id}:%`]);
    await work();
    expect((await chat.process(user)).documents.signed).toEqual(result.documents.signed);
    const files = (await chat.bot(user)).filter((m) => m.kind === 'file');
    expect(files).toHaveLength(2);
  });
});
