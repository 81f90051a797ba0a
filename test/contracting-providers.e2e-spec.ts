import { PDF } from '@libpdf/core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContractsService } from '../src/modules/signature/contracts.service.js';
import { OtpService } from '../src/modules/signature/otp.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { startFakeTsa, type FakeTsa } from './fakes/fake-tsa.js';
import { FakeTwilio } from './fakes/fake-twilio.js';
import { CLOUD, cloudSetup, type CloudSetup } from './support/cloud-line.js';
import { contractPdf, sha256 } from './support/pdfs.js';

/**
 * Contracting against the outside parts as they really behave: a Cloud API line whose codes go out as WhatsApp
 * authentication templates through the fake Graph API, a Twilio that fails before it works, and a time-stamping
 * authority that is down, then up.
 */
describe('contracting with real providers (fake Graph API, fake Twilio, a local TSA)', () => {
  let s: CloudSetup;
  let tsa: FakeTsa;
  let twilio: FakeTwilio;
  let key: { 'X-API-Key': string };
  let documentId: string;
  let userSeq = 0;
  const tmp = mkdtempSync(path.join(tmpdir(), 'testigo-providers-'));

  const newUser = () => `57300888${String(1000 + ++userSeq)}`;
  const work = async () => {
    await s.t.app.get(WebhookProcessorService).drain();
    await s.t.app.get(OtpService).deliverDue();
    await s.t.app.get(ContractsService).signDue();
    await s.t.app.get(SendQueueService).drain();
  };
  const post = async (envelope: object) => {
    expect((await FakeGraph.postWebhook(s.webhookUrl, envelope, CLOUD.appSecret)).status).toBe(200);
    await work();
  };
  const base = (from: string) => ({ phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone, from, timestamp: Math.floor(s.t.clock.now().getTime() / 1000) });
  const writes = (from: string, text: string) => post(FakeGraph.textMessage({ ...base(from), text }));
  const taps = (from: string, id: string, title: string) => post(FakeGraph.buttonReply({ ...base(from), id, title }));
  const processOf = async (waId: string) =>
    (
      await s.t.http
        .get('/v1/processes')
        .query({ phone: `+${waId}` })
        .set(key)
        .expect(200)
    ).body.data[0];

  async function flowWith(otp: Record<string, unknown>, inbound: string): Promise<void> {
    const flow = await s.t.http
      .post('/v1/flows')
      .set(key)
      .send({
        name: inbound,
        steps: [
          { id: 'doc', type: 'document', text: 'Tu contrato', document_id: documentId },
          { id: 'terms', type: 'consent', text: '¿Aceptas?' },
          { id: 'code', type: 'otp', ...otp },
          { id: 'sign', type: 'signature' },
          { id: 'done', type: 'end', outcome: 'succeeded', text: 'Hecho.' },
        ],
      })
      .expect(201);
    await s.t.http.post('/v1/whatsapp/inbounds').set(key).send({ waba_phone_number: CLOUD.phoneNumber, flow_id: flow.body.id, inbound_message: inbound }).expect(201);
  }

  async function toTheCode(inbound: string): Promise<string> {
    const user = newUser();
    await writes(user, inbound);
    await taps(user, 'document:reviewed', 'Sí, lo revisé');
    await taps(user, 'consent:accept', 'Acepto');
    return user;
  }

  beforeAll(async () => {
    tsa = await startFakeTsa();
    twilio = await FakeTwilio.start();
    s = await cloudSetup({ env: { TSA_URL: tsa.url } });
    key = { 'X-API-Key': s.apiKey };
    const up = await s.t.http
      .post('/v1/documents')
      .set(key)
      .set('Content-Type', 'application/pdf')
      .send(Buffer.from(await contractPdf(2)))
      .expect(201);
    documentId = up.body.document_id;
  });
  afterAll(async () => {
    await s.close();
    await tsa.close();
    await twilio.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('sends the code as a WhatsApp authentication template once Meta approves it, and signs at B-T with the TSA', async () => {
    await flowWith({ channel: 'whatsapp' }, 'firmar por whatsapp');
    const user = await toTheCode('firmar por whatsapp');
    // The line's authentication template was created on first use and waits for Meta; so does the code.
    let p = await processOf(user);
    expect(p.otp).toMatchObject({ channel: 'whatsapp', status: 'sending' });
    const created = s.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/message_templates'));
    expect(created).toHaveLength(1);
    expect(created[0].body).toMatchObject({ category: 'AUTHENTICATION', components: expect.arrayContaining([expect.objectContaining({ type: 'BUTTONS' })]) });
    expect(s.fake.authCodesSentTo(user)).toEqual([]);

    const template = [...s.fake.templates.values()].find((t) => t.category === 'AUTHENTICATION')!;
    s.fake.setTemplateStatus(template.id, 'APPROVED');
    await post(FakeGraph.templateStatusUpdate({ wabaId: CLOUD.wabaId, templateId: template.id, name: template.name, language: template.language, event: 'APPROVED' }));
    s.t.clock.advance(31_000);
    await work();
    const [code] = s.fake.authCodesSentTo(user);
    expect(code).toMatch(/^\d{6}$/);
    p = await processOf(user);
    expect(p.otp).toMatchObject({ status: 'sent', sent_at: expect.any(String) });

    await writes(user, code);
    p = await processOf(user);
    expect(p).toMatchObject({ status: 'succeeded', otp: { channel: 'whatsapp', status: 'verified' }, documents: { signed: { level: 'B-T' } } });
    // The signed copy was uploaded to Meta and sent as a document: its bytes are the signed PDF's.
    const upload = s.fake.uploads.at(-1)!;
    expect(sha256(upload.data)).toBe(p.documents.signed.sha256);
    const file = path.join(tmp, 'bt.pdf');
    writeFileSync(file, upload.data);
    const report = execFileSync('pdfsig', ['-nocert', file], { encoding: 'utf8' });
    expect(report).toContain('Signature is Valid.');
    expect(report).toContain('ETSI.CAdES.detached');
    // B-T: the signature's time comes from the authority, asked for this signing.
    expect(tsa.requests.length).toBeGreaterThan(0);
    // A second process on the line reuses its template.
    const second = await toTheCode('firmar por whatsapp');
    await work();
    expect(s.fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/message_templates'))).toHaveLength(1);
    expect(s.fake.authCodesSentTo(second)).toHaveLength(1);
  });

  it('waits while the SMS provider fails (the reason visible), then delivers once it answers', async () => {
    await s.t.http
      .patch('/v1/settings')
      .set(key)
      .send({ sms: { provider: 'twilio', account_sid: twilio.account.sid, auth_token: twilio.account.token, from: '+15005550006', base_url: twilio.baseUrl } })
      .expect(200);
    await flowWith({ channel: 'sms' }, 'firmar por sms');
    twilio.fail({ status: 500, code: 20500, message: 'Internal Server Error' }, { status: 429, code: 20429, message: 'Too Many Requests' });
    const user = await toTheCode('firmar por sms');
    let p = await processOf(user);
    expect(p).toMatchObject({ status: 'pending', current_step_id: 'code', otp: { status: 'sending', sent_at: null } });
    expect(twilio.sent).toHaveLength(0);
    // Retried with backoff by the job runner: the second failure, then the SMS.
    for (let i = 0; i < 2 && twilio.sent.length === 0; i++) {
      s.t.clock.advance(60_000);
      await work();
    }
    expect(twilio.sent).toEqual([expect.objectContaining({ To: `+${user}`, From: '+15005550006', Body: expect.stringMatching(/\b\d{6}\b/) })]);
    p = await processOf(user);
    expect(p.otp).toMatchObject({ status: 'sent' });
    await writes(user, /\b(\d{6})\b/.exec(twilio.sent[0].Body)![1]);
    expect((await processOf(user)).status).toBe('succeeded');
  });

  it('keeps the process waiting at the signature while the TSA is down, never signing lower; signs at B-T once it is back', async () => {
    await flowWith({ channel: 'sms' }, 'firmar sin tsa');
    tsa.mode = 'error';
    const user = await toTheCode('firmar sin tsa');
    await writes(user, /\b(\d{6})\b/.exec(twilio.sent.at(-1)!.Body)![1]);
    let p = await processOf(user);
    expect(p).toMatchObject({ status: 'pending', current_step_id: 'sign', documents: { signed: null, signing: { state: 'signing', error: expect.any(String) } } });
    // The person is told it is on its way, and nothing signed went out.
    await writes(user, '¿ya?');
    expect(s.fake.sentTo(user).at(-1)).toMatchObject({ type: 'text' });
    tsa.mode = 'ok';
    s.t.clock.advance(10 * 60_000);
    await work();
    p = await processOf(user);
    expect(p).toMatchObject({ status: 'succeeded', documents: { signed: { level: 'B-T' }, signing: { state: 'signed', error: null } } });
    const pdf = await s.t.http.get(`/v1/processes/${p.process_id}/documents/signed.pdf`).set(key).buffer(true).expect(200);
    expect((await PDF.load(new Uint8Array(pdf.body))).getPages()).toHaveLength(3);
  });
});
