import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { toE164 } from '../../common/phone/phone.js';
import { ListMessagesQueryDto, MessageDto } from './dto/message.dto.js';
import { MessagesService } from './messages.service.js';

@ApiTags('Messages')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/messages')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Get(':id')
  @ApiOperation({ summary: 'A message in or out, with its delivery status (sent, delivered, read, failed with the reason)' })
  @ApiOkResponse({ type: MessageDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async get(@Tenant() t: TenantContext, @Param('id') id: string): Promise<MessageDto> {
    const message = await this.messages.get(t.tenantId, id);
    return MessageDto.from(message, await this.messages.mediaOf([message]));
  }

  @Get()
  @ApiOperation({ summary: 'Messages in and out, newest first; filter by line, user phone, status and direction' })
  @ApiPageResponse(MessageDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() q: ListMessagesQueryDto): Promise<PageDto<MessageDto>> {
    const phone = q.phone ? (toE164(q.phone) ?? q.phone) : undefined;
    const { items, next_cursor } = await this.messages.list(t.tenantId, { ...q, lineId: q.line_id, phone });
    const media = await this.messages.mediaOf(items);
    return { data: items.map((m) => MessageDto.from(m, media)), next_cursor };
  }
}
