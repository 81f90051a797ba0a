import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { toE164 } from '../../common/phone/phone.js';
import { SandboxSmsDto, SandboxSmsQueryDto } from './dto/sandbox-sms.dto.js';
import { SandboxSmsService } from './sandbox-sms.service.js';

@ApiTags('Sandbox')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/sandbox/sms')
export class SandboxSmsController {
  constructor(private readonly sms: SandboxSmsService) {}

  @Get()
  @ApiOperation({
    summary: 'The SMS the sandbox SMS provider sent to a number (one-time codes), newest first',
    description: 'Only your own: SMS sent for your tenant while its `sms.provider` setting is `sandbox`.',
  })
  @ApiPageResponse(SandboxSmsDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() q: SandboxSmsQueryDto): Promise<PageDto<SandboxSmsDto>> {
    const { items, next_cursor } = await this.sms.list(t.tenantId, toE164(q.phone)!, q);
    return { data: items.map((s) => SandboxSmsDto.from(s)), next_cursor };
  }
}
