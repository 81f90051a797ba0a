import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { CreateOutboundDto, ListOutboundsQueryDto, OutboundDto } from './dto/outbound.dto.js';
import { SendOutboundDto, SendOutboundResponseDto } from './dto/send.dto.js';
import { OutboundsService } from './outbounds.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('Outbound messages')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/outbounds')
export class OutboundsController {
  constructor(private readonly outbounds: OutboundsService) {}

  @Post()
  @Audited('outbound', 'create')
  @ApiOperation({
    summary: 'Create an outbound message (a WhatsApp template) and submit it for approval',
    description:
      'Form or JSON body. Answers `status: PENDING` and submits the template to the line’s provider; the status becomes APPROVED ' +
      'or REJECTED (with the reason) from WhatsApp’s template webhook or, as a fallback, a poller. Never edited after submission.',
  })
  @ApiCreatedResponse({ type: OutboundDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  create(@Tenant() t: TenantContext, @Body() dto: CreateOutboundDto): Promise<OutboundDto> {
    return this.outbounds.create(t, dto);
  }

  @Post('send')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Send an approved outbound to a user who opted in',
    description:
      'Queues the template message (201, `status: queued`); follow delivery at GET /v1/whatsapp/messages/{message_id}. ' +
      'Records the opt-in given through `user_authorized`. For an outbound created with is_notification=false, `flow_id` is ' +
      'required: the user’s tap on the continue_process button starts that flow, cancel_process records a refusal. ' +
      'An `Idempotency-Key` header makes a retried request return the first answer and send once.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Any unique string (≤ 255 characters), e.g. a UUID; reused with another body: 422 IDEMPOTENCY_KEY_REUSED' })
  @ApiCreatedResponse({ type: SendOutboundResponseDto })
  @ApiErrors(
    [400, 'VALIDATION_FAILED'],
    [403, 'OPT_IN_REQUIRED'],
    [404, 'NOT_FOUND'],
    [409, 'OUTBOUND_NOT_APPROVED', 'OPTED_OUT', 'FLOW_ARCHIVED'],
    [422, 'IDEMPOTENCY_KEY_REUSED'],
  )
  send(@Tenant() t: TenantContext, @Body() dto: SendOutboundDto, @Headers('idempotency-key') key?: string): Promise<SendOutboundResponseDto> {
    return this.outbounds.send(t, dto, key);
  }

  @Get()
  @ApiOperation({ summary: 'List your outbounds, newest first (filters: status, line)' })
  @ApiPageResponse(OutboundDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  list(@Tenant() t: TenantContext, @Query() q: ListOutboundsQueryDto): Promise<PageDto<OutboundDto>> {
    return this.outbounds.list(t.tenantId, q);
  }

  @Get(':outbound_id')
  @ApiOperation({ summary: 'An outbound with its status: PENDING, APPROVED, REJECTED (with the reason), PAUSED or DISABLED' })
  @ApiOkResponse({ type: OutboundDto })
  @ApiErrors([404, 'NOT_FOUND'])
  get(@Tenant() t: TenantContext, @Param('outbound_id') id: string): Promise<OutboundDto> {
    return this.outbounds.get(t.tenantId, id);
  }
}
