import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { FakeGraph } from './fake-graph.js';

const FIXTURES = join(process.cwd(), '..', 'shared', 'fixtures', 'whatsapp-cloud-api');
const fixture = (file: string, example: string): unknown => (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Record<string, unknown>)[example];

/** Key sets at every level (arrays: their first element), to compare shapes and not values. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  return typeof v;
}

const TOKEN = 'EAAG-test-token';
const PNID = '1122334455667';
const line = { phoneNumberId: PNID, displayPhone: '972123456789', from: '972987654321' };

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
}

const buttons = (n: number, title = (i: number) => `Option ${i}`) => ({
  messaging_product: 'whatsapp',
  to: '972987654321',
  type: 'interactive',
  interactive: {
    type: 'button',
    body: { text: 'Pick one' },
    action: { buttons: Array.from({ length: n }, (_, i) => ({ type: 'reply', reply: { id: `b${i}`, title: title(i) } })) },
  },
});

describe('FakeGraph (cloud_api)', () => {
  let graph: FakeGraph;
  let messagesUrl: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    graph = await FakeGraph.start({ mode: 'cloud_api', accessToken: TOKEN });
    messagesUrl = `${graph.baseUrl}/v23.0/${PNID}/messages`;
  });
  afterAll(() => graph.close());
  beforeEach(() => graph.reset());

  it('accepts a valid text message, answers a wamid and records it', async () => {
    const res = await post(messagesUrl, { messaging_product: 'whatsapp', to: '972987654321', type: 'text', text: { body: 'hello' } }, auth);
    expect(res.status).toBe(200);
    expect(res.json.contacts).toEqual([{ input: '972987654321', wa_id: '972987654321' }]);
    expect(res.json.messages[0].id).toMatch(/^wamid\.HBg[A-Za-z0-9+/=]+$/);
    expect(graph.sent).toHaveLength(1);
    expect(graph.sent[0]).toMatchObject({ phoneNumberId: PNID, to: '972987654321', type: 'text', wamid: res.json.messages[0].id });
    expect(graph.sentTo('972987654321')).toHaveLength(1);
    expect(graph.requests[0]!.path).toBe(`/v23.0/${PNID}/messages`);
  });

  it('rejects a wrong bearer with 401 / code 190', async () => {
    const res = await post(messagesUrl, { messaging_product: 'whatsapp', to: '972987654321', type: 'text', text: { body: 'x' } }, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe(190);
    expect(graph.sent).toHaveLength(0);
  });

  it("answers the phone number node as Meta does, to its business's token only", async () => {
    graph.addPhoneNumber({ id: '106540352242922', phoneNumber: '+573001230000', verifiedName: 'Banco', accessToken: 'EAAG-owner' });
    const get = async (path: string, token: string) => {
      const res = await fetch(`${graph.baseUrl}/v23.0/${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: (await res.json()) as any };
    };
    expect(await get('106540352242922?fields=display_phone_number,verified_name', 'EAAG-owner')).toEqual({
      status: 200,
      json: { display_phone_number: '+57 300 1230000', verified_name: 'Banco', id: '106540352242922' },
    });
    const full = await get('106540352242922', 'EAAG-owner');
    expect(Object.keys(full.json).sort()).toEqual(['code_verification_status', 'display_phone_number', 'id', 'platform_type', 'quality_rating', 'throughput', 'verified_name']);
    // The fake's own token is valid, but belongs to another business: the number does not exist for it.
    const other = await get('106540352242922?fields=display_phone_number', TOKEN);
    expect(other.status).toBe(400);
    expect(other.json.error).toMatchObject({ code: 100, error_subcode: 33, type: 'OAuthException', fbtrace_id: expect.any(String) });
    const unknown = await get('106540352242922?fields=display_phone_number', 'EAAG-made-up');
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toMatchObject({ code: 190, type: 'OAuthException' });
  });

  it('rejects 4 reply buttons, naming buttons', async () => {
    const res = await post(messagesUrl, buttons(4), auth);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(100);
    expect(res.json.error.error_data.details).toMatch(/buttons/);
  });

  it('rejects a 21-character button title and accepts 20', async () => {
    const tooLong = await post(
      messagesUrl,
      buttons(2, (i) => `${i}`.padEnd(21, 'x')),
      auth,
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.error_data.details).toMatch(/title/);
    const ok = await post(
      messagesUrl,
      buttons(3, (i) => `${i}`.padEnd(20, 'x')),
      auth,
    );
    expect(ok.status).toBe(200);
  });

  it('failNext answers the injected Graph error once, then succeeds', async () => {
    graph.failNext(1, { code: 130429, httpStatus: 429 });
    const body = { messaging_product: 'whatsapp', to: '972987654321', type: 'text', text: { body: 'hi' } };
    const first = await post(messagesUrl, body, auth);
    expect(first.status).toBe(429);
    expect(first.json.error).toMatchObject({ code: 130429, type: 'OAuthException', error_data: { messaging_product: 'whatsapp' } });
    expect(typeof first.json.error.fbtrace_id).toBe('string');
    const second = await post(messagesUrl, body, auth);
    expect(second.status).toBe(200);
    expect(graph.sent).toHaveLength(1);
  });

  it('creates templates, requiring an example when the body has parameters', async () => {
    const url = `${graph.baseUrl}/v23.0/555000111/message_templates`;
    const base = { name: 'code_ready', language: 'en_US', category: 'UTILITY' };
    const noExample = await post(url, { ...base, components: [{ type: 'BODY', text: 'Hello {{1}}, your code is ready.' }] }, auth);
    expect(noExample.status).toBe(400);
    expect(noExample.json.error.code).toBe(100);
    expect(noExample.json.error.error_user_msg).toMatch(/example/);

    const good = { ...base, components: [{ type: 'BODY', text: 'Hello {{1}}, your code is ready.', example: { body_text: [['Ana']] } }] };
    const created = await post(url, good, auth);
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ id: expect.stringMatching(/^\d+$/), status: 'PENDING', category: 'UTILITY' });

    const dup = await post(url, good, auth);
    expect(dup.json.error).toMatchObject({ code: 100, error_subcode: 2388024 });

    graph.setTemplateStatus(created.json.id, 'REJECTED', 'INVALID_FORMAT');
    const got = await fetch(`${graph.baseUrl}/v23.0/${created.json.id}`, { headers: auth });
    expect(await got.json()).toEqual({ id: created.json.id, name: 'code_ready', language: 'en_US', status: 'REJECTED', category: 'UTILITY', rejected_reason: 'INVALID_FORMAT' });
  });

  it('validates lists and checks template sends against known templates', async () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, title: `Row ${i}` }));
    const list = (sections: unknown[]) => ({
      messaging_product: 'whatsapp',
      to: '972987654321',
      type: 'interactive',
      interactive: { type: 'list', body: { text: 'Choose' }, action: { button: 'Options', sections } },
    });
    expect(
      (
        await post(
          messagesUrl,
          list([
            { title: 'A', rows: rows(6) },
            { title: 'B', rows: rows(5).map((r) => ({ ...r, id: `x${r.id}` })) },
          ]),
          auth,
        )
      ).json.error.error_data.details,
    ).toMatch(/10 rows/);
    expect((await post(messagesUrl, list([{ rows: rows(10) }]), auth)).status).toBe(200);

    const t = graph.seedTemplate({ name: 'otp', language: 'en', status: 'APPROVED', category: 'UTILITY', components: [{ type: 'BODY', text: 'Code {{1}} for {{2}}.' }] });
    const send = (params: string[]) => ({
      messaging_product: 'whatsapp',
      to: '972987654321',
      type: 'template',
      template: { name: t.name, language: { code: 'en' }, components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] },
    });
    expect((await post(messagesUrl, send(['1234']), auth)).json.error.code).toBe(132000);
    expect((await post(messagesUrl, send(['1234', 'a\nb']), auth)).json.error.error_data.details).toMatch(/new-line/);
    expect((await post(messagesUrl, send(['1234', 'Ana']), auth)).status).toBe(200);
    graph.setTemplateStatus(t.id, 'PAUSED');
    expect((await post(messagesUrl, send(['1234', 'Ana']), auth)).json.error.code).toBe(132015);
  });

  it('serves media metadata and bytes whose sha256 matches', async () => {
    const data = Buffer.from('%PDF-1.4 fake document bytes');
    graph.addMedia('778899', data, 'application/pdf');
    const meta = (await (await fetch(`${graph.baseUrl}/v23.0/778899`, { headers: auth })).json()) as any;
    expect(meta).toMatchObject({ messaging_product: 'whatsapp', mime_type: 'application/pdf', file_size: data.length, id: '778899' });
    expect((await fetch(meta.url)).status).toBe(401);
    const dl = await fetch(meta.url, { headers: auth });
    expect(dl.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await dl.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.sha256);
  });
});

describe('FakeGraph (bsp)', () => {
  let graph: FakeGraph;
  beforeAll(async () => {
    graph = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
  });
  afterAll(() => graph.close());

  it('authenticates with D360-API-KEY and lists templates', async () => {
    const msg = { messaging_product: 'whatsapp', to: '34600111222', type: 'location', location: { latitude: 40.4, longitude: -3.7 } };
    expect((await post(`${graph.baseUrl}/messages`, msg, { 'D360-API-KEY': 'wrong' })).status).toBe(401);
    const ok = await post(`${graph.baseUrl}/messages`, msg, { 'D360-API-KEY': 'd360-key' });
    expect(ok.status).toBe(200);
    expect(graph.sent[0]).toMatchObject({ phoneNumberId: null, to: '34600111222', type: 'location' });

    const tpl = { name: 'hello', language: 'es', category: 'MARKETING', components: [{ type: 'BODY', text: 'Hola, gracias.' }] };
    const created = await post(`${graph.baseUrl}/v1/configs/templates`, tpl, { 'D360-API-KEY': 'd360-key' });
    expect(created.json).toMatchObject({ status: 'PENDING', name: 'hello', language: 'es', category: 'MARKETING' });
    const list = (await (await fetch(`${graph.baseUrl}/v1/configs/templates`, { headers: { 'D360-API-KEY': 'd360-key' } })).json()) as any;
    expect(list.count).toBe(1);
    expect(list.waba_templates[0]).toMatchObject({ id: created.json.id, status: 'PENDING' });
  });
});

describe('FakeGraph webhook helpers', () => {
  it('signBody matches an independently computed HMAC and postWebhook sends it', async () => {
    const raw = JSON.stringify(FakeGraph.textMessage({ ...line, text: 'hola' }));
    const expected = 'sha256=' + createHmac('sha256', 'app-secret').update(Buffer.from(raw)).digest('hex');
    expect(FakeGraph.signBody('app-secret', raw)).toBe(expected);

    let seen: { sig: unknown; raw: string } | undefined;
    const receiver = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        seen = { sig: req.headers['x-hub-signature-256'], raw: b };
        res.end('EVENT_RECEIVED');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
      const res = await FakeGraph.postWebhook(url, JSON.parse(raw) as object, 'app-secret');
      expect(res).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
      expect(seen!.sig).toBe(FakeGraph.signBody('app-secret', seen!.raw));
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });

  it('shape() tells different examples apart', () => {
    expect(shape(fixture('message.json', 'text'))).not.toEqual(shape(fixture('message.json', 'image')));
  });

  it.each([
    ['message.json', 'text', () => FakeGraph.textMessage({ ...line, text: 'Body Text', profileName: 'Test Name' })],
    ['message.json', 'image', () => FakeGraph.imageMessage({ ...line, mediaId: '65463453', mimeType: 'image/jpeg' })],
    ['callback_button.json', 'button', () => FakeGraph.buttonReply({ ...line, id: 'callback_data', title: 'title' })],
    ['callback_button.json', 'quick_reply', () => FakeGraph.templateQuickReply({ ...line, payload: 'callback_data', text: 'title', contextWamid: 'wamid.x' })],
    ['callback_selection.json', 'callback', () => FakeGraph.listReply({ ...line, id: 'callback_data', title: 'title' })],
    ['callback_selection.json', 'description', () => FakeGraph.listReply({ ...line, id: 'callback_data', title: 'title', description: 'description' })],
    ['message_status.json', 'sent', () => FakeGraph.statusUpdate({ ...line, wamid: 'wamid.x', recipient: line.from, status: 'sent' })],
    ['message_status.json', 'delivered', () => FakeGraph.statusUpdate({ ...line, wamid: 'wamid.x', recipient: line.from, status: 'delivered' })],
    ['message_status.json', 'failed', () => FakeGraph.statusUpdate({ ...line, wamid: 'wamid.x', recipient: line.from, status: 'failed', error: { code: 130472, title: 'x' } })],
    [
      'template_status_update.json',
      'approved',
      () => FakeGraph.templateStatusUpdate({ wabaId: '102290129340398', templateId: '1689556908129832', name: 'order_confirmation', language: 'en_US', event: 'APPROVED' }),
    ],
  ])('%s %s: the builder has the fixture shape', (file, example, build) => {
    expect(shape(build())).toEqual(shape(fixture(file, example)));
  });

  it('document messages match the fixture document object and wamids are unique', () => {
    const env = FakeGraph.documentMessage({ ...line, mediaId: '1', filename: 'f.pdf', mimeType: 'application/pdf', caption: 'caption' });
    const msg = (env.entry[0]!.changes[0]!.value.messages as any[])[0];
    const fx = ((fixture('message.json', 'document') as any).entry[0].changes[0].value.messages as any[])[0];
    expect(shape(msg.document)).toEqual(shape(fx.document));
    const ids = new Set(Array.from({ length: 200 }, () => (FakeGraph.textMessage({ ...line, text: 'x' }).entry[0]!.changes[0]!.value.messages as any[])[0].id));
    expect(ids.size).toBe(200);
  });

  it('batch merges changes of one WABA into one entry', () => {
    const merged = FakeGraph.batch(
      FakeGraph.textMessage({ ...line, text: 'a' }),
      FakeGraph.statusUpdate({ ...line, wamid: 'wamid.x', recipient: line.from, status: 'read' }),
      FakeGraph.templateStatusUpdate({ wabaId: '999', templateId: '1', name: 'n', language: 'en', event: 'REJECTED' }),
    );
    expect(merged.entry).toHaveLength(2);
    expect(merged.entry[0]!.changes).toHaveLength(2);
  });
});
