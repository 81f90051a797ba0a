import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { SettingsDto, UpdateSettingsDto } from './dto/settings.dto.js';
import { TenantsService } from './tenants.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('Settings')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/settings')
export class SettingsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @ApiOperation({ summary: 'Your conversation settings: fallback text and keywords (with their defaults), and the SMS provider (without its token)' })
  @ApiOkResponse({ type: SettingsDto })
  async get(@Tenant() t: TenantContext): Promise<SettingsDto> {
    const tenant = await this.tenants.get(t.tenantId);
    return SettingsDto.from(tenant.settings, tenant.sms);
  }

  @Patch()
  @Audited('settings', 'update')
  @ApiOperation({
    summary: 'Change conversation settings (they apply at once, on every instance) and the SMS provider',
    description: '`sms.auth_token` is write-only: answers show `auth_token_set`. A change of `sms` that keeps the provider and account may omit the token.',
  })
  @ApiOkResponse({ type: SettingsDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async update(@Tenant() t: TenantContext, @Body() dto: UpdateSettingsDto): Promise<SettingsDto> {
    const { sms, ...settings } = dto;
    if (sms !== undefined) await this.tenants.updateSms(t.tenantId, sms);
    return SettingsDto.from(await this.tenants.updateSettings(t.tenantId, settings), await this.tenants.smsSettings(t.tenantId));
  }
}
