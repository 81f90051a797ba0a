import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import QRCode from 'qrcode';
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

  @Get(':inbound_id/qr.png')
  @ApiOperation({ summary: "The inbound's wa.me link as a QR code (PNG): scanning it opens WhatsApp with inbound_message typed" })
  @ApiProduces('image/png')
  @ApiOkResponse({ description: 'A PNG image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } })
  @ApiErrors([404, 'NOT_FOUND'])
  @Header('content-type', 'image/png')
  @Header('cache-control', 'private, max-age=300')
  async qr(@Tenant() t: TenantContext, @Param('inbound_id') id: string): Promise<StreamableFile> {
    const inbound = await this.inbounds.get(t.tenantId, id);
    return new StreamableFile(await QRCode.toBuffer(inbound.link, { type: 'png', margin: 2, width: 320, errorCorrectionLevel: 'M' }));
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
