import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { CreateInboundDto, InboundDto, ListInboundsQueryDto } from './dto/inbound.dto.js';
import { InboundsService } from './inbounds.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('Inbounds')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/inbounds')
export class InboundsController {
  constructor(private readonly inbounds: InboundsService) {}

  @Post()
  @Audited('inbound', 'create')
  @ApiOperation({ summary: 'Create an inbound: users who send inbound_message to the line start the flow' })
  @ApiCreatedResponse({ type: InboundDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [409, 'INBOUND_MESSAGE_TAKEN', 'FLOW_ARCHIVED'])
  create(@Tenant() t: TenantContext, @Body() dto: CreateInboundDto): Promise<InboundDto> {
    return this.inbounds.create(t.tenantId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List inbounds, newest first' })
  @ApiPageResponse(InboundDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  list(@Tenant() t: TenantContext, @Query() q: ListInboundsQueryDto): Promise<PageDto<InboundDto>> {
    return this.inbounds.list(t.tenantId, q);
  }

  @Get(':inbound_id')
  @ApiOperation({ summary: 'Get an inbound' })
  @ApiOkResponse({ type: InboundDto })
  @ApiErrors([404, 'NOT_FOUND'])
  get(@Tenant() t: TenantContext, @Param('inbound_id') id: string): Promise<InboundDto> {
    return this.inbounds.get(t.tenantId, id);
  }

  @Delete(':inbound_id')
  @Audited('inbound', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an inbound; running processes go on' })
  @ApiNoContentResponse()
  @ApiErrors([404, 'NOT_FOUND'])
  async remove(@Tenant() t: TenantContext, @Param('inbound_id') id: string): Promise<void> {
    await this.inbounds.remove(t.tenantId, id);
  }
}
