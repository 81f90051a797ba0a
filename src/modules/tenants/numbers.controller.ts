import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { CreateNumberDto, ListNumbersQueryDto, NumberDto, UpdateNumberDto } from './dto/number.dto.js';
import { LinesService } from './lines.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('WhatsApp numbers')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/numbers')
export class NumbersController {
  constructor(private readonly lines: LinesService) {}

  @Post()
  @Audited('whatsapp_line', 'create')
  @ApiOperation({ summary: 'Register a WhatsApp line (a WABA phone number) and its provider credentials' })
  @ApiCreatedResponse({ type: NumberDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [409, 'NUMBER_TAKEN'], [422, 'LINE_NOT_VERIFIED'], [502, 'PROVIDER_UNAVAILABLE'])
  async create(@Tenant() t: TenantContext, @Body() dto: CreateNumberDto): Promise<NumberDto> {
    const { line, webhookToken } = await this.lines.create(t.tenantId, dto);
    return NumberDto.from(line, webhookToken);
  }

  @Get()
  @ApiOperation({ summary: 'List your WhatsApp lines, newest first' })
  @ApiPageResponse(NumberDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() query: ListNumbersQueryDto): Promise<PageDto<NumberDto>> {
    const { items, next_cursor } = await this.lines.list(t.tenantId, query);
    return { data: items.map((l) => NumberDto.from(l)), next_cursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a WhatsApp line (secrets are never returned)' })
  @ApiOkResponse({ type: NumberDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async get(@Tenant() t: TenantContext, @Param('id') id: string): Promise<NumberDto> {
    return NumberDto.from(await this.lines.get(t.tenantId, id));
  }

  @Patch(':id')
  @Audited('whatsapp_line', 'update')
  @ApiOperation({ summary: "Update a line's credentials or throughput" })
  @ApiOkResponse({ type: NumberDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'], [409, 'NUMBER_TAKEN'], [422, 'LINE_NOT_VERIFIED'], [502, 'PROVIDER_UNAVAILABLE'])
  async update(@Tenant() t: TenantContext, @Param('id') id: string, @Body() dto: UpdateNumberDto): Promise<NumberDto> {
    const { line, webhookToken } = await this.lines.update(t.tenantId, id, dto);
    return NumberDto.from(line, webhookToken);
  }

  @Post(':id/webhook-token')
  @Audited('whatsapp_line', 'rotate_webhook_token')
  @ApiOperation({ summary: 'A new webhook token for a bsp line without app_secret (the previous one stops working at once); shown only in this answer' })
  @ApiCreatedResponse({ type: NumberDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async rotateWebhookToken(@Tenant() t: TenantContext, @Param('id') id: string): Promise<NumberDto> {
    const { line, webhookToken } = await this.lines.rotateWebhookToken(t.tenantId, id);
    return NumberDto.from(line, webhookToken);
  }

  @Delete(':id')
  @Audited('whatsapp_line', 'delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a line; its message history is kept' })
  @ApiNoContentResponse()
  @ApiErrors([404, 'NOT_FOUND'])
  async remove(@Tenant() t: TenantContext, @Param('id') id: string): Promise<void> {
    await this.lines.remove(t.tenantId, id);
  }
}
