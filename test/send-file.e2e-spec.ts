import { createHash } from 'node:crypto';
import { FilesService } from '../src/modules/messages/files.service.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import type { OutgoingMessage } from '../src/whatsapp/whatsapp.types.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { cloudSetup, type CloudSetup } from './support/cloud-line.js';
import { sandboxChat, SANDBOX_LINE, type SandboxChat } from './support/sandbox-chat.js';

const PDF = Buffer.from('%PDF-1.4\n% contrato de prueba\n%%EOF\n');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('sending a stored file', () => {
  describe('on a cloud_api line and a BSP line', () => {
    let s: CloudSetup;
    let bsp: FakeGraph;
    let bspLineId: string;
    beforeAll(async () => {
      s = await cloudSetup();
      bsp = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
      const line = await s.t.http
        .post('/v1/whatsapp/numbers')
        .set('X-API-Key', s.apiKey)
        .send({ phone_number: '+573001230077', provider: 'bsp', api_key: 'd360-key', base_url: bsp.baseUrl })
        .expect(201);
      bspLineId = line.body.id;
    });
    afterAll(async () => {
      await s.close();
      await bsp.close();
    });

    const send = async (lineId: string, message: OutgoingMessage) => {
      const queued = await s.t.db.transaction((m) => s.t.app.get(MessagesService).enqueue(m, { tenantId: s.tenantId, lineId, phone: '+573005550300', message }));
      await s.t.app.get(SendQueueService).drain();
      return (await s.t.db.query(`SELECT status, error_code, error_title, provider_message_id FROM messages WHERE id = $1`, [queued.id]))[0];
    };

    it.each([
      ['cloud_api', () => s.fake, () => s.lineId, '/v23.0/106540352242922/media'],
      ['bsp', () => bsp, () => bspLineId, '/media'],
    ] as const)('%s: uploads the bytes as multipart form data, then sends a document by the media id answered', async (_name, fake, lineId, uploadPath) => {
      const file = await s.t.app.get(FilesService).keep(s.tenantId, PDF, { mimeType: 'application/pdf', filename: 'contrato.pdf' });
      const row = await send(lineId(), { kind: 'file', fileId: file.id, mediaType: 'document', caption: 'Tu contrato' });
      expect(row).toMatchObject({ status: 'sent', error_code: null });
      const f = fake();
      expect(f.uploads).toHaveLength(1);
      const [upload] = f.uploads;
      expect(upload).toMatchObject({ fields: { messaging_product: 'whatsapp', type: 'application/pdf' }, filename: 'contrato.pdf', mimeType: 'application/pdf' });
      expect(sha256(upload.data)).toBe(sha256(PDF));
      const call = f.requests.find((r) => r.method === 'POST' && r.path === uploadPath);
      expect(call?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      const sent = f.sentTo('573005550300').at(-1)!;
      expect(sent.type).toBe('document');
      expect(sent.body.document).toEqual({ id: upload.id, filename: 'contrato.pdf', caption: 'Tu contrato' });
      expect(row.provider_message_id).toBe(sent.wamid);
      f.reset();
    });

    it("refuses another tenant's file without calling the provider", async () => {
      const other = await s.t.newTenant('Other');
      const file = await s.t.app.get(FilesService).keep(other.tenantId, PDF, { mimeType: 'application/pdf' });
      const row = await send(s.lineId, { kind: 'file', fileId: file.id, mediaType: 'document' });
      expect(row).toMatchObject({ status: 'failed', error_code: 'INVALID_REQUEST' });
      expect(s.fake.uploads).toHaveLength(0);
    });

    it("the fake refuses an upload without messaging_product, without the file, or with a type that is not the file's", async () => {
      const post = (parts: Array<[string, string] | [string, string, string, Buffer]>) => {
        const form = new FormData();
        for (const p of parts) {
          if (p.length === 2) form.append(p[0], p[1]);
          else form.append(p[0], new Blob([p[3]], { type: p[2] }), p[1]);
        }
        return fetch(`${s.fake.baseUrl}/v23.0/106540352242922/media`, { method: 'POST', headers: { authorization: 'Bearer EAAG-test-access-token' }, body: form });
      };
      const noProduct = await post([
        ['type', 'application/pdf'],
        ['file', 'a.pdf', 'application/pdf', PDF],
      ]);
      expect(noProduct.status).toBe(400);
      expect(((await noProduct.json()) as { error: unknown }).error).toMatchObject({ code: 100, message: expect.stringContaining('messaging_product') });
      const noFile = await post([
        ['messaging_product', 'whatsapp'],
        ['type', 'application/pdf'],
      ]);
      expect(((await noFile.json()) as { error: unknown }).error).toMatchObject({ code: 100, message: expect.stringContaining('file') });
      const wrongType = await post([
        ['messaging_product', 'whatsapp'],
        ['type', 'image/png'],
        ['file', 'a.pdf', 'application/pdf', PDF],
      ]);
      expect(((await wrongType.json()) as { error: unknown }).error).toMatchObject({ code: 131053 });
      const ok = await post([
        ['messaging_product', 'whatsapp'],
        ['type', 'application/pdf'],
        ['file', 'a.pdf', 'application/pdf', PDF],
      ]);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ id: expect.stringMatching(/^\d+$/) });
      s.fake.reset();
    });
  });

  describe('on a sandbox line', () => {
    let chat: SandboxChat;
    beforeAll(async () => (chat = await sandboxChat()));
    afterAll(() => chat.close());

    it('records the send, and the transcript links the file to its content', async () => {
      const file = await chat.t.app.get(FilesService).keep(chat.tenantId, PDF, { mimeType: 'application/pdf', filename: 'contrato.pdf' });
      await chat.t.db.transaction((m) =>
        chat.t.app
          .get(MessagesService)
          .enqueue(m, { tenantId: chat.tenantId, lineId: chat.lineId, phone: '+573005550301', message: { kind: 'file', fileId: file.id, mediaType: 'document' } }),
      );
      await chat.t.app.get(SendQueueService).drain();
      const res = await chat.t.http.get('/v1/sandbox/messages').query({ waba_phone_number: SANDBOX_LINE, phone: '+573005550301' }).set('X-API-Key', chat.apiKey).expect(200);
      const [msg] = res.body.data;
      expect(msg).toMatchObject({ direction: 'outbound', type: 'file', status: 'sent', provider_message_id: expect.stringMatching(/^wamid\.SANDBOX/) });
      expect(msg.media).toEqual([expect.objectContaining({ id: file.id, filename: 'contrato.pdf', content_url: `/v1/files/${file.id}/content`, sha256: sha256(PDF) })]);
      const content = await chat.t.http
        .get(msg.media[0].content_url)
        .set('X-API-Key', chat.apiKey)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
      expect(content.status).toBe(200);
      expect(sha256(content.body as Buffer)).toBe(sha256(PDF));
      expect(content.headers['content-disposition']).toBe(`attachment; filename="contrato.pdf"; filename*=UTF-8''contrato.pdf`);
    });
  });
});
