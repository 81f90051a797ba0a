import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { ConversationsService } from './conversations.service.js';
import { AnswerDto, EvidenceVerificationDto, ListProcessesQueryDto, ProcessDto, ProcessEvidenceDto } from './dto/process.dto.js';
import { ProcessResultsService } from './process-results.service.js';

@ApiTags('Processes (results)')
@TenantAuth()
@ApiExtraModels(AnswerDto)
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/processes')
export class ProcessesController {
  constructor(
    private readonly results: ProcessResultsService,
    private readonly conversations: ConversationsService,
    private readonly ds: DataSource,
  ) {}

  @Get(':process_id')
  @ApiOperation({ summary: "A process's result: status, failure reason, every answer by step with its validation, media references" })
  @ApiOkResponse({ type: ProcessDto })
  @ApiErrors([404, 'NOT_FOUND'])
  get(@Tenant() t: TenantContext, @Param('process_id') id: string): Promise<ProcessDto> {
    return this.results.get(t.tenantId, id);
  }

  @Get()
  @ApiOperation({ summary: 'Processes, newest first; filter by flow, status, phone and start dates' })
  @ApiPageResponse(ProcessDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  list(@Tenant() t: TenantContext, @Query() q: ListProcessesQueryDto): Promise<PageDto<ProcessDto>> {
    return this.results.list(t.tenantId, q);
  }

  @Get(':process_id/evidence')
  @ApiOperation({
    summary: "A process's evidence log: every event in order, hash-chained (see docs/evidence.md to recompute it yourself)",
  })
  @ApiOkResponse({ type: ProcessEvidenceDto })
  @ApiErrors([404, 'NOT_FOUND'])
  evidence(@Tenant() t: TenantContext, @Param('process_id') id: string): Promise<ProcessEvidenceDto> {
    return this.results.evidence(t.tenantId, id);
  }

  @Get(':process_id/evidence/verify')
  @ApiOperation({ summary: "Recomputes the process's evidence chain server-side and says where it breaks, if it does" })
  @ApiOkResponse({ type: EvidenceVerificationDto })
  @ApiErrors([404, 'NOT_FOUND'])
  verify(@Tenant() t: TenantContext, @Param('process_id') id: string): Promise<EvidenceVerificationDto> {
    return this.results.verifyEvidence(t.tenantId, id);
  }

  @Post(':process_id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a pending process (status cancelled, reason client_cancelled); the process.failed hook is sent' })
  @ApiOkResponse({ type: ProcessDto })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'PROCESS_FINISHED'])
  async cancel(@Tenant() t: TenantContext, @Param('process_id') id: string): Promise<ProcessDto> {
    return this.ds.transaction(async (m) => this.results.result(m, await this.conversations.cancelByClient(m, t.tenantId, id)));
  }
}
