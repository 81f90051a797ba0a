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
  @ApiOperation({ summary: 'Your conversation settings: fallback text and keywords (with their defaults)' })
  @ApiOkResponse({ type: SettingsDto })
  async get(@Tenant() t: TenantContext): Promise<SettingsDto> {
    return SettingsDto.from((await this.tenants.get(t.tenantId)).settings);
  }

  @Patch()
  @Audited('settings', 'update')
  @ApiOperation({ summary: 'Change conversation settings (they apply at once, on every instance)' })
  @ApiOkResponse({ type: SettingsDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async update(@Tenant() t: TenantContext, @Body() dto: UpdateSettingsDto): Promise<SettingsDto> {
    return SettingsDto.from(await this.tenants.updateSettings(t.tenantId, dto));
  }
}
