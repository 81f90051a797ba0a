import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth } from '../../common/auth/admin.guard.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto, CreateTenantDto, TenantDto, UpdateTenantDto } from './dto/tenant.dto.js';
import { TenantsService } from './tenants.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('Admin')
@AdminAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/admin/tenants')
export class AdminController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly keys: ApiKeysService,
  ) {}

  @Post()
  @Audited('tenant', 'create')
  @ApiOperation({ summary: 'Create a tenant (a client company)' })
  @ApiCreatedResponse({ type: TenantDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async create(@Body() dto: CreateTenantDto): Promise<TenantDto> {
    return TenantDto.from(await this.tenants.create(dto.name));
  }

  @Get()
  @ApiOperation({ summary: 'List tenants, newest first' })
  @ApiPageResponse(TenantDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Query() page: PageQueryDto): Promise<PageDto<TenantDto>> {
    const { items, next_cursor } = await this.tenants.list(page);
    return { data: items.map(TenantDto.from), next_cursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a tenant' })
  @ApiOkResponse({ type: TenantDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async get(@Param('id') id: string): Promise<TenantDto> {
    return TenantDto.from(await this.tenants.get(id));
  }

  @Patch(':id')
  @Audited('tenant', 'update')
  @ApiOperation({ summary: "Rename a tenant or set its own API-key rate limit (null: back to the service's default)" })
  @ApiOkResponse({ type: TenantDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async update(@Param('id') id: string, @Body() dto: UpdateTenantDto): Promise<TenantDto> {
    return TenantDto.from(await this.tenants.update(id, dto));
  }

  @Post(':id/api-keys')
  @Audited('api_key', 'create', { tenantParam: 'id' })
  @ApiOperation({ summary: 'Create an API key for a tenant; the key is shown only in this response' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async createKey(@Param('id') id: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const tenant = await this.tenants.get(id);
    const { key, plaintext } = await this.keys.create(tenant.id, dto.name, { scopes: dto.scopes, expiresAt: dto.expires_at ? new Date(dto.expires_at) : null });
    return { ...ApiKeyDto.from(key), key: plaintext };
  }

  @Get(':id/api-keys')
  @ApiOperation({ summary: "List a tenant's API keys (never the keys themselves)" })
  @ApiPageResponse(ApiKeyDto)
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async listKeys(@Param('id') id: string, @Query() page: PageQueryDto): Promise<PageDto<ApiKeyDto>> {
    const tenant = await this.tenants.get(id);
    const { items, next_cursor } = await this.keys.list(tenant.id, page);
    return { data: items.map(ApiKeyDto.from), next_cursor };
  }

  @Delete(':id/api-keys/:keyId')
  @Audited('api_key', 'revoke', { idParam: 'keyId', tenantParam: 'id' })
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key: it stops working at once' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async revokeKey(@Param('id') id: string, @Param('keyId') keyId: string): Promise<ApiKeyDto> {
    return ApiKeyDto.from(await this.keys.revoke(id, keyId));
  }
}
