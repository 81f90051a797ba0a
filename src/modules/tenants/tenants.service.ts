import { LookupCache } from '../../common/cache/lookup-cache.js';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { checkOutgoingUrl } from '../../common/http/url-guard.js';
import { trimTrailing } from '../../common/text/trim.js';
import { AppConfig } from '../../config/app-config.js';
import type { SmsSettings } from '../../sms/sms.types.js';
import { Tenant, TenantSettings } from './entities/tenant.entity.js';

/** `sms` of a settings change (validated for shape by its DTO). */
export interface SmsSettingsInput {
  provider: SmsSettings['provider'];
  account_sid?: string;
  auth_token?: string;
  from?: string;
  base_url?: string;
}

@Injectable()
export class TenantsService {
  private readonly settingsCache = new LookupCache<TenantSettings>('tenant-settings');

  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    private readonly config: AppConfig,
  ) {}

  create(name: string): Promise<Tenant> {
    return this.tenants.save(this.tenants.create({ id: newId('TNT'), name, settings: {} }));
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.tenants.findOneBy({ id });
    if (!tenant) throw AppError.notFound('Tenant', id);
    return tenant;
  }

  list(page: PageQueryDto) {
    return paginate(this.tenants.createQueryBuilder('t'), page);
  }

  /**
   * A tenant's settings for hot paths (every inbound message): cached (LOOKUP_TTL_MS), dropped at once on update here.
   */
  settingsOf(id: string): Promise<TenantSettings> {
    return this.settingsCache.get(id, async () => (await this.get(id)).settings ?? {});
  }

  /** Every tenant's id and settings (the custody purge's round). */
  async allSettings(): Promise<Array<{ id: string; settings: TenantSettings }>> {
    return (await this.tenants.find({ select: { id: true, settings: true } })).map((t) => ({ id: t.id, settings: t.settings ?? {} }));
  }

  /** Merges `patch` into the tenant's settings; a null value removes the setting (back to its default). */
  /** Tenants with their own `messages_retention_days` (few: the rest use MESSAGES_RETENTION_DAYS). */
  async messagesRetentionOverrides(): Promise<Array<{ tenantId: string; days: number }>> {
    const rows = (await this.tenants.query(`SELECT id, (settings->>'messages_retention_days')::int AS days FROM tenants WHERE settings ? 'messages_retention_days'`)) as Array<{
      id: string;
      days: number;
    }>;
    return rows.map((r) => ({ tenantId: r.id, days: r.days }));
  }

  async updateSettings(id: string, patch: Partial<Record<keyof TenantSettings, unknown>>): Promise<TenantSettings> {
    const tenant = await this.get(id);
    const settings: Record<string, unknown> = { ...tenant.settings };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      if (v === null) delete settings[k];
      else settings[k] = v;
    }
    await this.tenants.update({ id }, { settings: settings as TenantSettings });
    this.settingsCache.clear();
    return settings as TenantSettings;
  }

  /** The tenant's SMS provider with its auth token opened, or null when it has none (or no such tenant). */
  async smsSettings(tenantId: string): Promise<SmsSettings | null> {
    const row = await this.tenants.findOne({ where: { id: tenantId }, select: { id: true, sms: true } });
    return row?.sms ?? null;
  }

  /**
   * Sets (or with null removes) the tenant's SMS provider. Twilio needs account_sid, auth_token and from; a change
   * that keeps the provider and account may omit the token (the stored one stays). 400 naming `sms.<field>`.
   */
  async updateSms(tenantId: string, input: SmsSettingsInput | null): Promise<SmsSettings | null> {
    const current = await this.smsSettings(tenantId);
    let next: SmsSettings | null = null;
    if (input?.provider === 'sandbox') {
      for (const f of ['account_sid', 'auth_token', 'from', 'base_url'] as const) {
        if (input[f] !== undefined) throw AppError.validation(`sms.${f}`, `sms.${f} is for the twilio provider; sandbox takes none`);
      }
      next = { provider: 'sandbox' };
    } else if (input?.provider === 'twilio') {
      const kept = current?.provider === 'twilio' && current.account_sid === input.account_sid ? current.auth_token : undefined;
      const auth_token = input.auth_token ?? kept;
      for (const [f, v] of [
        ['account_sid', input.account_sid],
        ['auth_token', auth_token],
        ['from', input.from],
      ] as const) {
        if (!v) throw AppError.validation(`sms.${f}`, `sms.${f} is required for the twilio provider`);
      }
      let base_url: string | undefined;
      if (input.base_url !== undefined) {
        const problem = checkOutgoingUrl(input.base_url, this.config.allowLocalUrls, 'sms.base_url');
        if (problem) throw AppError.validation('sms.base_url', problem);
        base_url = trimTrailing(input.base_url, '/');
      }
      next = { provider: 'twilio', account_sid: input.account_sid!, auth_token: auth_token!, from: input.from!, ...(base_url ? { base_url } : {}) };
    }
    await this.tenants.update({ id: tenantId }, { sms: next });
    return next;
  }

  /** Name and own API-key rate limit (null: back to the default); the limit applies from the next request. */
  async update(id: string, patch: { name?: string; rate_limit_per_second?: number | null; rate_limit_burst?: number | null }): Promise<Tenant> {
    await this.get(id);
    const changes: Partial<Tenant> = {};
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.rate_limit_per_second !== undefined) changes.rateLimitPerSecond = patch.rate_limit_per_second;
    if (patch.rate_limit_burst !== undefined) changes.rateLimitBurst = patch.rate_limit_burst;
    if (Object.keys(changes).length > 0) await this.tenants.update({ id }, changes);
    return this.get(id);
  }

  async isEmpty(): Promise<boolean> {
    return !(await this.tenants.exists());
  }
}

export { DEFAULT_EVIDENCE_RETENTION_DAYS } from './entities/tenant.entity.js';
