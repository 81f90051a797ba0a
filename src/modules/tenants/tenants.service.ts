import { LookupCache } from '../../common/cache/lookup-cache.js';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { Tenant, TenantSettings } from './entities/tenant.entity.js';

@Injectable()
export class TenantsService {
  private readonly settingsCache = new LookupCache<TenantSettings>('tenant-settings');

  constructor(@InjectRepository(Tenant) private readonly tenants: Repository<Tenant>) {}

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

  /** Merges `patch` into the tenant's settings; a null value removes the setting (back to its default). */
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
