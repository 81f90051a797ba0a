import { FakeGraph } from '../fakes/fake-graph.js';
import { createTestApp, TestApp, TestAppOptions } from './test-app.js';

export const CLOUD = {
  phoneNumber: '+573001230000',
  displayPhone: '573001230000',
  phoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  accessToken: 'EAAG-test-access-token',
  appSecret: 'test-app-secret',
  verifyToken: 'test-verify-token',
};

/** The `POST /v1/whatsapp/numbers` body that registers `line` (default CLOUD) as a cloud_api line. */
export function cloudLineBody(line: typeof CLOUD = CLOUD): Record<string, string> {
  return {
    phone_number: line.phoneNumber,
    provider: 'cloud_api',
    phone_number_id: line.phoneNumberId,
    waba_id: line.wabaId,
    access_token: line.accessToken,
    app_secret: line.appSecret,
    verify_token: line.verifyToken,
  };
}

export interface CloudSetup {
  t: TestApp;
  fake: FakeGraph;
  apiKey: string;
  tenantId: string;
  lineId: string;
  /** Absolute URL of the app's webhook endpoint. */
  webhookUrl: string;
  close(): Promise<void>;
}

/** A test app whose tenant has a cloud_api line pointing at a fake Graph API; workers off unless asked. */
export async function cloudSetup(options: TestAppOptions & { throughputMps?: number; line?: Partial<typeof CLOUD> } = {}): Promise<CloudSetup> {
  const fake = await FakeGraph.start({ mode: 'cloud_api', accessToken: CLOUD.accessToken });
  const t = await createTestApp({
    ...options,
    env: { GRAPH_API_BASE_URL: fake.baseUrl, GRAPH_API_VERSION: 'v23.0', WORKERS_ENABLED: 'false', ...options.env },
  });
  const { apiKey, tenantId } = await t.newTenant();
  const line = { ...CLOUD, ...options.line };
  // The line's business owns the number at Meta: its token reads the number, which registration checks.
  fake.addPhoneNumber({ id: line.phoneNumberId, phoneNumber: line.phoneNumber, accessToken: line.accessToken });
  const res = await t.http
    .post('/v1/whatsapp/numbers')
    .set('X-API-Key', apiKey)
    .send({ ...cloudLineBody(line), throughput_mps: options.throughputMps ?? 80 })
    .expect(201);
  return {
    t,
    fake,
    apiKey,
    tenantId,
    lineId: res.body.id,
    webhookUrl: `${await t.app.getUrl()}/v1/whatsapp/webhook`.replace('[::1]', '127.0.0.1'),
    async close() {
      await t.close();
      await fake.close();
    },
  };
}
