import { ApiKeysService } from './api-keys.service.js';
import { LinesService } from './lines.service.js';
import { TenantsService } from './tenants.service.js';

export const DEMO_LINE_PHONE = '+14155550100';

/**
 * On the first start of an empty embedded database: a demo tenant with an API key and a sandbox line, so every
 * endpoint can be tried at once. Returns the key (shown once), or null when the database already had tenants.
 */
export async function seedDemoTenant(tenants: TenantsService, keys: ApiKeysService, lines: LinesService): Promise<{ tenantId: string; apiKey: string; linePhone: string } | null> {
  if (!(await tenants.isEmpty())) return null;
  const tenant = await tenants.create('Demo');
  const { plaintext } = await keys.create(tenant.id, 'demo');
  await lines.create(tenant.id, { phone_number: DEMO_LINE_PHONE, provider: 'sandbox' });
  // One-time codes by SMS land in the sandbox SMS inbox (GET /v1/sandbox/sms).
  await tenants.updateSms(tenant.id, { provider: 'sandbox' });
  return { tenantId: tenant.id, apiKey: plaintext, linePhone: DEMO_LINE_PHONE };
}
