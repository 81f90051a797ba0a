import { OutgoingHttp } from '../src/common/http/outgoing-http.js';
import { DnsHostResolver } from '../src/common/http/url-guard.js';
import { AppConfig, loadConfig } from '../src/config/app-config.js';
import { BspAdapter } from '../src/whatsapp/bsp/bsp.adapter.js';
import { CloudApiAdapter } from '../src/whatsapp/cloud-api/cloud-api.adapter.js';
import { ProviderError } from '../src/whatsapp/provider-error.js';
import { SandboxAdapter } from '../src/whatsapp/sandbox/sandbox.adapter.js';
import type { WhatsappProvider } from '../src/whatsapp/whatsapp-provider.port.js';
import type { LineCredentials, OutgoingMessage, TemplateDefinition } from '../src/whatsapp/whatsapp.types.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { FakeClock } from './support/fake-clock.js';

interface Harness {
  provider: WhatsappProvider;
  line: LineCredentials;
  fake: FakeGraph | null;
  close(): Promise<void>;
}

const http = (config: AppConfig) => new OutgoingHttp(config, new DnsHostResolver());
const cloud = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return new CloudApiAdapter(config, http(config));
};

const harnesses: Record<string, () => Promise<Harness>> = {
  cloud_api: async () => {
    const fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: 'tok' });
    const provider = cloud({ GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0' });
    const line: LineCredentials = {
      lineId: 'WAN1',
      provider: 'cloud_api',
      phoneNumber: '+573001230000',
      phoneNumberId: '1065',
      wabaId: '1022',
      accessToken: 'tok',
      appSecret: 's3cret',
    };
    return { provider, line, fake, close: () => fake.close() };
  },
  bsp: async () => {
    const fake = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
    const line: LineCredentials = { lineId: 'WAN2', provider: 'bsp', phoneNumber: '+573001230001', apiKey: 'd360-key', baseUrl: fake.baseUrl, appSecret: 's3cret' };
    const config = loadConfig({});
    return { provider: new BspAdapter(config, http(config)), line, fake, close: () => fake.close() };
  },
  sandbox: async () => {
    const line: LineCredentials = { lineId: 'WAN3', provider: 'sandbox', phoneNumber: '+14155550100' };
    return { provider: new SandboxAdapter(new FakeClock(), loadConfig({})), line, fake: null, close: async () => undefined };
  },
};

const template: TemplateDefinition = {
  name: 'tg_contract_test',
  language: 'es',
  category: 'UTILITY',
  body: 'Hola {{1}}, tu recibo {{2}} está listo.',
  bodyExamples: ['Pepe', '1234'],
  header: { format: 'IMAGE', exampleUrl: 'https://example.com/logo.png' },
  quickReplies: ['Sí', 'No'],
};

describe.each(Object.keys(harnesses))('provider contract: %s', (name) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harnesses[name]();
  });
  afterAll(() => h.close());

  it.each<[string, OutgoingMessage]>([
    ['text', { kind: 'text', body: 'Hola' }],
    [
      'buttons',
      {
        kind: 'buttons',
        body: '¿Continuamos?',
        buttons: [
          { id: 'y', title: 'Sí' },
          { id: 'n', title: 'No' },
          { id: 'l', title: 'Más tarde' },
        ],
      },
    ],
    ['list', { kind: 'list', body: 'Tipo de documento', buttonText: 'Elegir', rows: Array.from({ length: 10 }, (_, i) => ({ id: `r${i}`, title: `Opción ${i}` })) }],
    ['document by link', { kind: 'media', mediaType: 'document', link: 'https://example.com/c.pdf', filename: 'c.pdf', caption: 'Contrato' }],
    ['video by id', { kind: 'media', mediaType: 'video', mediaId: '998877' }],
    ['location', { kind: 'location', latitude: 4.6, longitude: -74.1, name: 'Sede', address: 'Calle 1' }],
    [
      'template',
      {
        kind: 'template',
        name: 'tg_x',
        language: 'es',
        bodyParams: ['Pepe', '1234'],
        header: { type: 'image', link: 'https://example.com/i.png' },
        buttonPayloads: ['continue_process:OUT1', 'cancel_process:OUT1'],
      },
    ],
  ])('sends %s and returns a wamid', async (_kind, message) => {
    const { providerMessageId } = await h.provider.send(h.line, '+573009998877', message);
    expect(providerMessageId).toMatch(/^wamid\./);
    if (h.fake) expect(h.fake.sent.at(-1)).toMatchObject({ to: '573009998877', wamid: providerMessageId });
  });

  it('creates a template and reads its status', async () => {
    const created = await h.provider.createTemplate(h.line, { ...template, name: `tg_${name}` });
    expect(created.providerTemplateId).toBeTruthy();
    const found = await h.provider.findTemplate(h.line, `tg_${name}`, 'es');
    expect(found?.providerTemplateId ?? null).toBe(h.fake ? created.providerTemplateId : null);
    expect(await h.provider.findTemplate(h.line, 'tg_never_created', 'es')).toBeNull();
    if (h.fake) {
      expect(created.status).toBe('PENDING');
      h.fake.setTemplateStatus(created.providerTemplateId, 'REJECTED', 'INVALID_FORMAT');
      expect(await h.provider.getTemplate(h.line, created.providerTemplateId)).toEqual({ status: 'REJECTED', reason: 'INVALID_FORMAT' });
    } else {
      expect(await h.provider.getTemplate(h.line, created.providerTemplateId)).toEqual({ status: 'APPROVED', reason: null });
    }
  });

  it('downloads media', async () => {
    const data = Buffer.from('some image bytes');
    h.fake?.addMedia('media-1', data, 'image/jpeg');
    const media = await h.provider.downloadMedia(h.line, 'media-1');
    expect(media.data.length).toBeGreaterThan(0);
    if (h.fake) expect(media).toEqual({ data, mimeType: 'image/jpeg' });
  });

  // The sandbox has no media URLs.
  (name === 'sandbox' ? it.skip : it)('follows a redirect of the media URL', async () => {
    if (!h.fake) throw new Error('a provider with media URLs runs against the fake');
    h.fake.addMedia('media-2', Buffer.from('redirected bytes'), 'image/png');
    h.fake.redirectMediaDownloads = true;
    try {
      expect(await h.provider.downloadMedia(h.line, 'media-2')).toEqual({ data: Buffer.from('redirected bytes'), mimeType: 'image/png' });
    } finally {
      h.fake.redirectMediaDownloads = false;
    }
  });

  it('verifies webhook signatures', () => {
    const raw = JSON.stringify(FakeGraph.textMessage({ phoneNumberId: '1065', displayPhone: '1', from: '57300', text: 'x' }));
    const good = h.provider.verifySignature(h.line, Buffer.from(raw), FakeGraph.signBody('s3cret', raw));
    const bad = h.provider.verifySignature(h.line, Buffer.from(raw), FakeGraph.signBody('other', raw));
    // Sandbox lines never take webhook calls: their events come through the authenticated sandbox API.
    expect([good, bad]).toEqual(name === 'sandbox' ? [false, false] : [true, false]);
  });

  if (name !== 'sandbox') {
    it.each([
      [{ httpStatus: 429, code: 130429 }, 'RATE_LIMITED', true],
      [{ code: 131056 }, 'PAIR_RATE_LIMITED', true],
      [{ code: 131047 }, 'OUTSIDE_WINDOW', false],
      [{ code: 131026 }, 'UNDELIVERABLE', false],
      [{ code: 131050 }, 'MARKETING_OPTED_OUT', false],
      [{ code: 132001 }, 'TEMPLATE_PROBLEM', false],
      [{ httpStatus: 401, code: 190 }, 'AUTH', false],
      [{ httpStatus: 503, code: 1 }, 'TRANSIENT', true],
    ])('normalises provider error %j to %s', async (error, code, retryable) => {
      h.fake!.failNext(1, error);
      const err = await h.provider.send(h.line, '+573009998877', { kind: 'text', body: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect({ code: (err as ProviderError).code, retryable: (err as ProviderError).retryable }).toEqual({ code, retryable });
    });

    it('reports an unreachable provider as retryable PROVIDER_UNREACHABLE, naming neither address nor socket error', async () => {
      const down = { ...h.line, baseUrl: 'http://127.0.0.1:9' };
      const provider = name === 'cloud_api' ? cloud({ GRAPH_API_BASE_URL: 'http://127.0.0.1:9' }) : h.provider;
      const err = await provider.send(down, '+573009998877', { kind: 'text', body: 'x' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROVIDER_UNREACHABLE', retryable: true, message: 'The provider could not be reached' });
    });
  }
});
