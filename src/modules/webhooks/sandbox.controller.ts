import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { toE164 } from '../../common/phone/phone.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import { MessagesService } from '../messages/messages.service.js';
import { SandboxInboundAcceptedDto, SandboxInboundDto, SandboxMessagesQueryDto } from './dto/sandbox.dto.js';
import { SandboxService } from './sandbox.service.js';

@ApiTags('Sandbox')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/sandbox/messages')
export class SandboxController {
  constructor(
    private readonly sandbox: SandboxService,
    private readonly messages: MessagesService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Simulate a user writing to one of your sandbox lines (text, button/list reply, or a placeholder image/document)' })
  @ApiAcceptedResponse({ type: SandboxInboundAcceptedDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  inject(@Tenant() t: TenantContext, @Body() dto: SandboxInboundDto): Promise<SandboxInboundAcceptedDto> {
    return this.sandbox.inject(t.tenantId, dto);
  }

  @Get()
  @ApiOperation({
    summary: 'The conversation between a sandbox line and a user, newest first: what the bot sent and what the user wrote',
    description:
      'A template is shown as the user sees it: its content gets `rendered` ({header?, body with the parameters filled in, buttons [{id, title}]}). ' +
      "An authentication template's `rendered` shows its one-time code as the user reads it: the body with the code, the footer, and " +
      "`buttons: [{type: 'copy_code', title, copy_code}]` (its `authCode` stays masked).",
  })
  @ApiPageResponse(MessageDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() q: SandboxMessagesQueryDto): Promise<PageDto<MessageDto>> {
    const line = await this.sandbox.sandboxLine(t.tenantId, q.waba_phone_number);
    const { items, next_cursor } = await this.messages.list(t.tenantId, { ...q, lineId: line.id, phone: toE164(q.phone)! });
    const media = await this.messages.mediaOf(items);
    return { data: await this.sandbox.transcript(line, items, media), next_cursor };
  }
}
