import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ConsentListDto, CreateConsentDto, CreateConsentResponseDto, ListConsentsQueryDto } from './dto/consent.dto.js';
import { ConsentsApiService } from './consents-api.service.js';

@ApiTags('Outbound messages')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/whatsapp/consents')
export class ConsentsController {
  constructor(private readonly consents: ConsentsApiService) {}

  @Post()
  @ApiOperation({
    summary: 'Record an opt-in you collected, with its evidence',
    description: 'An opt-in newer than the user’s opt-out lifts it (sends are accepted again); an older one is kept but lifts nothing.',
  })
  @ApiCreatedResponse({ type: CreateConsentResponseDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  create(@Tenant() t: TenantContext, @Body() dto: CreateConsentDto): Promise<CreateConsentResponseDto> {
    return this.consents.create(t, dto);
  }

  @Get()
  @ApiOperation({ summary: 'A user’s opt-in state and every opt-in and opt-out with its time and source, newest first' })
  @ApiOkResponse({ type: ConsentListDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  list(@Tenant() t: TenantContext, @Query() q: ListConsentsQueryDto): Promise<ConsentListDto> {
    return this.consents.list(t.tenantId, q);
  }
}
