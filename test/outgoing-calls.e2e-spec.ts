import { createHash } from 'node:crypto';
import { HostResolver } from '../src/common/http/url-guard.js';
import { HookDispatcher } from '../src/modules/hooks/hook-dispatcher.js';
import { MediaDownloaderService } from '../src/modules/messages/media-downloader.service.js';
import { MessagesService } from '../src/modules/messages/messages.service.js';
import { SendQueueService } from '../src/modules/messages/send-queue.service.js';
import { TemplatesService } from '../src/modules/templates/templates.service.js';
import { WebhookProcessorService } from '../src/modules/webhooks/webhook-processor.service.js';
import { FakeGraph } from './fakes/fake-graph.js';
import { CLOUD, cloudSetup, CloudSetup } from './support/cloud-line.js';

/** Host names mapped by the test; a name may answer differently on each lookup (as a rebinding DNS server does). */
class StubResolver extends HostResolver {
  readonly asked: string[] = [];
  answers = new Map<string, string[][]>();
  async resolve(host: string): Promise<string[]> {
    this.asked.push(host);
    const queue = this.answers.get(host);
    if (!queue?.length) throw Object.assign(new Error(`stub: no address for ${host}`), { code: 'ENOTFOUND' });
    return queue.length > 1 ? queue.shift()! : queue[0];
  }
}

/** A plain notification template for the line `phone`: creating it submits it to the line's provider at once. */
const outbound = (phone: string) => ({
  waba_phone_number: phone,
  is_notification: 'true',
  content: 'Tu pedido está listo para recoger.',
  category: 'PAYMENT_UPDATE',
  template_type: 'TEXT',
  language_code: 'es',
});
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const base = { phoneNumberId: CLOUD.phoneNumberId, displayPhone: CLOUD.displayPhone };

/** A cloud_api tenant plus a second tenant with a BSP line on its own fake; the app's workers off, driven by hand. */
async function setup(env: Record<string, string>) {
  const resolver = new StubResolver();
  const s = await cloudSetup({ env, overrides: [{ provide: HostResolver, useValue: resolver }] });
  const bsp = await FakeGraph.start({ mode: 'bsp', apiKey: 'd360-key' });
  const other = await s.t.newTenant('Other');
  return { s, bsp, other, resolver };
}

/** The BSP line's webhook token, by line id (lines without an app secret are called with it). */
const webhookTokens = new Map<string, string>();

async function bspLine(s: CloudSetup, apiKey: string, baseUrl: string, phone: string): Promise<string> {
  const res = await s.t.http.post('/v1/whatsapp/numbers').set('X-API-Key', apiKey).send({ phone_number: phone, provider: 'bsp', api_key: 'd360-key', base_url: baseUrl });
  expect(res.status).toBe(201);
  webhookTokens.set(res.body.id, res.body.webhook_token);
  return res.body.id;
}

async function receiveCloudImage(s: CloudSetup, from: string, mediaId: string) {
  await FakeGraph.postWebhook(s.webhookUrl, FakeGraph.imageMessage({ ...base, from, mediaId, mimeType: 'image/jpeg' }), CLOUD.appSecret);
  await s.t.app.get(WebhookProcessorService).drain();
  await s.t.app.get(MediaDownloaderService).downloadDue();
  const [file] = await s.t.db.query(`SELECT status, sha256, size_bytes, attempts, error, data IS NULL AS empty FROM media_files WHERE provider_media_id = $1`, [mediaId]);
  return file;
}

async function receiveBspImage(s: CloudSetup, lineId: string, from: string, mediaId: string) {
  const raw = JSON.stringify(FakeGraph.imageMessage({ phoneNumberId: 'bsp', displayPhone: '1', from, mediaId, mimeType: 'image/png' }));
  await s.t.http
    .post(`/v1/whatsapp/webhook/bsp/${lineId}`)
    .query({ token: webhookTokens.get(lineId) })
    .set('Content-Type', 'application/json')
    .send(raw)
    .expect(200);
  await s.t.app.get(WebhookProcessorService).drain();
  await s.t.app.get(MediaDownloaderService).downloadDue();
  const [file] = await s.t.db.query(`SELECT status, sha256, attempts, error FROM media_files WHERE provider_media_id = $1`, [mediaId]);
  return file;
}

describe('outgoing calls: byte caps and time limits', () => {
  let s: CloudSetup;
  let bsp: FakeGraph;
  let other: { apiKey: string; tenantId: string };
  beforeAll(async () => {
    ({ s, bsp, other } = await setup({ MEDIA_MAX_BYTES: '4096' }));
    await bspLine(s, other.apiKey, bsp.baseUrl, '+573001230077');
  });
  afterAll(async () => {
    await s.close();
    await bsp.close();
  });
  afterEach(() => {
    s.fake.reset();
    bsp.reset();
  });

  it('a Graph API answer over 1 MB fails the send as RESPONSE_TOO_LARGE instead of being read whole', async () => {
    s.fake.answerPadding = 1_100_000;
    const queued = await s.t.db.transaction((m) =>
      s.t.app.get(MessagesService).enqueue(m, { tenantId: s.tenantId, lineId: s.lineId, phone: '+573009990501', message: { kind: 'text', body: 'hola' } }),
    );
    await s.t.app.get(SendQueueService).drain();
    const msg = await s.t.http.get(`/v1/whatsapp/messages/${queued.id}`).set('X-API-Key', s.apiKey).expect(200);
    expect(msg.body).toMatchObject({ status: 'failed', error: { code: 'RESPONSE_TOO_LARGE', title: 'The provider answered with more data than allowed' } });
  });

  it("stops reading a BSP's endless answer at the cap and closes the connection", async () => {
    bsp.streamedAnswerBytes = 400 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    const res = await s.t.http.post('/v1/whatsapp/outbounds').set('X-API-Key', other.apiKey).send(outbound('+573001230077'));
    expect(res.status).toBe(201);
    expect(res.body.submission_error).toBe('RESPONSE_TOO_LARGE: The provider answered with more data than allowed');
    await new Promise((r) => setTimeout(r, 50));
    expect(bsp.streamed.closedEarly).toBe(true);
    expect(bsp.streamed.bytes).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('keeps media within MEDIA_MAX_BYTES: a larger file (declared or streamed) fails at once, and is not retried', async () => {
    s.fake.addMedia('small', Buffer.alloc(4000, 1), 'image/jpeg');
    s.fake.addMedia('big', Buffer.alloc(5000, 1), 'image/jpeg');
    expect(await receiveCloudImage(s, '573009990510', 'small')).toMatchObject({ status: 'stored', size_bytes: 4000, sha256: sha256(Buffer.alloc(4000, 1)) });
    expect(await receiveCloudImage(s, '573009990511', 'big')).toEqual({
      status: 'failed',
      sha256: null,
      size_bytes: null,
      attempts: 1,
      error: 'RESPONSE_TOO_LARGE: The provider answered with more data than allowed',
      empty: true,
    });
  });
});

describe('outgoing calls: redirects and normalised errors (local URLs allowed)', () => {
  let s: CloudSetup;
  let bsp: FakeGraph;
  let other: { apiKey: string; tenantId: string };
  let resolver: StubResolver;
  beforeAll(async () => {
    ({ s, bsp, other, resolver } = await setup({}));
  });
  afterAll(async () => {
    await s.close();
    await bsp.close();
  });
  afterEach(() => {
    s.fake.reset();
    bsp.reset();
  });

  it('follows a media redirect, keeping the token on its origin only', async () => {
    const bytes = Buffer.from('redirected selfie');
    s.fake.addMedia('hop', bytes, 'image/jpeg');
    s.fake.redirectMediaDownloads = true;
    expect(await receiveCloudImage(s, '573009990520', 'hop')).toMatchObject({ status: 'stored', sha256: sha256(bytes) });
    const hops = s.fake.requests.filter((r) => r.path.startsWith('/media-'));
    expect(hops.map((r) => [r.path, r.headers.authorization])).toEqual([
      ['/media-redirect/hop', `Bearer ${CLOUD.accessToken}`],
      ['/media-download/hop', `Bearer ${CLOUD.accessToken}`],
    ]);

    // Another origin (localhost is not 127.0.0.1) gets no credentials: the fake refuses it, as a foreign host should.
    s.fake.requests.length = 0;
    s.fake.addMedia('away', bytes, 'image/jpeg');
    s.fake.mediaRedirectTarget = (id) => `${s.fake.baseUrl.replace('127.0.0.1', 'localhost')}/media-download/${id}`;
    resolver.answers.set('localhost', [['127.0.0.1']]);
    expect(await receiveCloudImage(s, '573009990521', 'away')).toMatchObject({ status: 'failed', error: expect.stringMatching(/^AUTH: /) });
    expect(s.fake.requests.filter((r) => r.path.startsWith('/media-')).map((r) => r.headers.authorization)).toEqual([`Bearer ${CLOUD.accessToken}`, undefined]);
  });

  it('checks every redirect hop: a hop to a non-https host is refused before any connection, and 5 hops at most', async () => {
    s.fake.addMedia('plain', Buffer.from('x'), 'image/jpeg');
    s.fake.redirectMediaDownloads = true;
    s.fake.mediaRedirectTarget = () => 'http://cdn.internal.test/file';
    resolver.answers.set('cdn.internal.test', [['127.0.0.1']]);
    const asked = resolver.asked.length;
    expect(await receiveCloudImage(s, '573009990530', 'plain')).toMatchObject({ status: 'pending', error: 'PROVIDER_UNREACHABLE: The provider address is not allowed' });
    expect(resolver.asked.length).toBe(asked);

    s.fake.addMedia('loop', Buffer.from('x'), 'image/jpeg');
    s.fake.mediaRedirectTarget = (id) => `/media-redirect/${id}`;
    expect(await receiveCloudImage(s, '573009990531', 'loop')).toMatchObject({ error: 'PROVIDER_UNREACHABLE: The provider redirected too many times' });
    expect(s.fake.requests.filter((r) => r.path === '/media-redirect/loop')).toHaveLength(6);
  });

  it('downloads BSP media through a redirect and keeps its sha256', async () => {
    const lineId = await bspLine(s, other.apiKey, bsp.baseUrl, '+573001230078');
    const bytes = Buffer.from('bsp document photo');
    bsp.addMedia('bsp-1', bytes, 'image/png');
    bsp.redirectMediaDownloads = true;
    expect(await receiveBspImage(s, lineId, '573009990540', 'bsp-1')).toMatchObject({ status: 'stored', sha256: sha256(bytes), attempts: 1 });
  });

  it('shows tenants a neutral PROVIDER_UNREACHABLE for a BSP that refuses connections, never the address or socket error', async () => {
    await bspLine(s, other.apiKey, 'http://127.0.0.1:9', '+573001230079');
    const res = await s.t.http.post('/v1/whatsapp/outbounds').set('X-API-Key', other.apiKey).send(outbound('+573001230079'));
    expect(res.status).toBe(201);
    expect(res.body.submission_error).toBe('PROVIDER_UNREACHABLE: The provider could not be reached');
    const got = await s.t.http.get(`/v1/whatsapp/outbounds/${res.body.outbound_id}`).set('X-API-Key', other.apiKey).expect(200);
    expect(JSON.stringify(got.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|:9\b/);
    await s.t.app.get(TemplatesService).retrySubmissions();
  });
});

describe('outgoing calls: tenant-given hosts with local URLs not allowed', () => {
  let s: CloudSetup;
  let bsp: FakeGraph;
  let other: { apiKey: string; tenantId: string };
  let resolver: StubResolver;
  beforeAll(async () => {
    ({ s, bsp, other, resolver } = await setup({ ALLOW_LOCAL_URLS: 'false' }));
  });
  afterAll(async () => {
    await s.close();
    await bsp.close();
  });

  const submit = (phone: string) => s.t.http.post('/v1/whatsapp/outbounds').set('X-API-Key', other.apiKey).send(outbound(phone));

  it.each([
    ['resolves to loopback', [['127.0.0.1']]],
    ['answers a public address first and loopback second', [['93.184.216.34', '127.0.0.1']]],
    ['answers IPv4-compatible loopback', [['::127.0.0.1']]],
    ['answers NAT64 of the metadata address', [['64:ff9b::a9fe:a9fe']]],
  ])('refuses a BSP base URL whose host %s, at request time', async (_name, answers) => {
    const host = `bsp-${Math.random().toString(36).slice(2)}.example.com`;
    resolver.answers.set(host, answers);
    const phone = `+5730012${String(Math.floor(Math.random() * 90000) + 10000)}`;
    await bspLine(s, other.apiKey, `https://${host}`, phone);
    const res = await submit(phone);
    expect(res.body.submission_error).toBe('PROVIDER_UNREACHABLE: The provider address is not allowed');
    expect(resolver.asked).toContain(host);
  });

  it.each([
    ['loopback', 'hooks.rebind.example.com', '127.0.0.1'],
    ['the cloud metadata address', 'hooks.metadata.example.com', '169.254.169.254'],
  ])('refuses a hook whose host answers the delivery check with a public address and the connection with %s', async (_, host, second) => {
    resolver.answers.set(host, [['93.184.216.34'], [second]]);
    const hook = await s.t.http
      .post('/v1/hooks')
      .set('X-API-Key', other.apiKey)
      .send({ url: `https://${host}/h`, events: ['process.started'] })
      .expect(201);
    await s.t.http.post(`/v1/hooks/${hook.body.id}/test`).set('X-API-Key', other.apiKey).expect(202);
    await s.t.app.get(HookDispatcher).dispatchDue();
    const log = await s.t.http.get(`/v1/hooks/${hook.body.id}/deliveries`).set('X-API-Key', other.apiKey).expect(200);
    expect(log.body.data[0].attempts[0].error).toMatch(new RegExp(`^SSRF_BLOCKED: .*${second.replace(/\./g, '\\.')}`));
    // Once for the delivery's check, once for the socket: the socket used its own checked answer.
    expect(resolver.asked.filter((h) => h === host)).toHaveLength(2);
  });

  it('refuses a media URL that is not https, and one whose host resolves to a private address', async () => {
    s.fake.addMedia('m-http', Buffer.from('x'), 'image/jpeg');
    s.fake.mediaOrigin = 'http://cdn.example.com';
    const asked = resolver.asked.length;
    expect(await receiveCloudImage(s, '573009990550', 'm-http')).toMatchObject({ status: 'pending', error: 'PROVIDER_UNREACHABLE: The provider address is not allowed' });
    expect(resolver.asked.length).toBe(asked);

    s.fake.addMedia('m-private', Buffer.from('x'), 'image/jpeg');
    s.fake.mediaOrigin = 'https://lookaside.example.com';
    resolver.answers.set('lookaside.example.com', [['10.0.0.7']]);
    expect(await receiveCloudImage(s, '573009990551', 'm-private')).toMatchObject({ status: 'pending', error: 'PROVIDER_UNREACHABLE: The provider address is not allowed' });
    expect(resolver.asked).toContain('lookaside.example.com');
    expect(s.fake.requests.filter((r) => r.path.startsWith('/media-'))).toHaveLength(0);
  });
});
