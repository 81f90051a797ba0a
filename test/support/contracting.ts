import { SendQueueService } from '../../src/modules/messages/send-queue.service.js';
import { ContractsService } from '../../src/modules/signature/contracts.service.js';
import { OtpService } from '../../src/modules/signature/otp.service.js';
import { contractPdf } from './pdfs.js';
import type { SandboxChat } from './sandbox-chat.js';

/** Everything due in a contracting chat: the chat's workers, the codes' and signatures' jobs, then the sends they queued. */
export async function workContracting(chat: SandboxChat): Promise<void> {
  await chat.work();
  await chat.t.app.get(OtpService).deliverDue();
  await chat.t.app.get(ContractsService).signDue();
  await chat.t.app.get(SendQueueService).drain();
}

/**
 * A contracting flow on the sandbox line started by `keyword` (document, consent, code by SMS, signature, end), with
 * the tenant's SMS on the sandbox provider.
 */
export async function contractingFlow(chat: SandboxChat, keyword: string): Promise<void> {
  const key = { 'X-API-Key': chat.apiKey };
  await chat.t.http
    .patch('/v1/settings')
    .set(key)
    .send({ sms: { provider: 'sandbox' } })
    .expect(200);
  const up = await chat.t.http
    .post('/v1/documents')
    .set(key)
    .set('Content-Type', 'application/pdf')
    .send(Buffer.from(await contractPdf(1)))
    .expect(201);
  const flowId = await chat.flow({
    name: 'Evidencia',
    steps: [
      { id: 'doc', type: 'document', text: 'Contrato', document_id: up.body.document_id },
      { id: 'terms', type: 'consent', text: '¿Aceptas?' },
      { id: 'code', type: 'otp', channel: 'sms' },
      { id: 'sign', type: 'signature' },
      { id: 'done', type: 'end', outcome: 'succeeded', text: 'Fin.' },
    ],
  });
  await chat.inbound(flowId, keyword);
}

/** `user` walks the flow of contractingFlow to its signed end (one wrong code on the way); the code and the process. */
export async function signContract(chat: SandboxChat, user: string, keyword: string): Promise<{ processId: string; code: string }> {
  const say = async (what: Parameters<SandboxChat['say']>[1]) => {
    await chat.say(user, what);
    await workContracting(chat);
  };
  await say(keyword);
  await say({ reply_id: 'document:reviewed' });
  await say({ reply_id: 'consent:accept' });
  const sms = (await chat.t.http.get('/v1/sandbox/sms').query({ phone: user }).set({ 'X-API-Key': chat.apiKey }).expect(200)).body.data;
  const code = /\b(\d{6})\b/.exec(sms[0].body)![1];
  await say(code === '000000' ? '111111' : '000000');
  await say(code);
  const p = await chat.process(user);
  if (p.status !== 'succeeded') throw new Error(`the contracting process ended ${p.status} (${p.failure_reason})`);
  return { processId: p.process_id, code };
}
