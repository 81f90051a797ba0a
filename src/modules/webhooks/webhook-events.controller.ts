import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { ListWebhookEventsQueryDto, WebhookEventDto } from './dto/webhook-event.dto.js';
import { WebhookEventsService } from './webhook-events.service.js';

@ApiTags('Webhook ingress (Meta / BSP)')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/webhook-events')
export class WebhookEventsController {
  constructor(private readonly events: WebhookEventsService) {}

  @Get()
  @ApiOperation({ summary: 'Stored webhook calls of your lines that need a look, newest first: unknown_line (a number of your WABA not registered here) or failed' })
  @ApiPageResponse(WebhookEventDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() q: ListWebhookEventsQueryDto): Promise<PageDto<WebhookEventDto>> {
    const { items, next_cursor } = await this.events.list(t.tenantId, q);
    return { data: items.map(WebhookEventDto.from), next_cursor };
  }
}
