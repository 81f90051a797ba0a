import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { CreateFlowDto, FlowDto, FlowSummaryDto, GetFlowQueryDto, ListFlowsQueryDto, PatchFlowDto, ReplaceFlowDto } from './dto/flow.dto.js';
import { FlowsService } from './flows.service.js';
import { Audited } from '../audit/audited.decorator.js';

const UPDATE_NOTE = 'Creates a new version; earlier versions stay readable and unchanged (running processes keep theirs).';

@ApiTags('Flows')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/flows')
export class FlowsController {
  constructor(private readonly flows: FlowsService) {}

  @Post()
  @Audited('flow', 'create')
  @ApiOperation({ summary: 'Create a flow (version 1)', description: 'JSON or form body; in form bodies `steps` and `settings` are JSON strings.' })
  @ApiCreatedResponse({ type: FlowDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async create(@Tenant() t: TenantContext, @Body() dto: CreateFlowDto): Promise<FlowDto> {
    const { flow, version } = await this.flows.create(t.tenantId, dto);
    return FlowDto.fromVersion(flow, version);
  }

  @Get()
  @ApiOperation({ summary: 'List your flows, newest first' })
  @ApiPageResponse(FlowSummaryDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() query: ListFlowsQueryDto): Promise<PageDto<FlowSummaryDto>> {
    const { items, next_cursor } = await this.flows.list(t.tenantId, query);
    return { data: items.map(FlowSummaryDto.from), next_cursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a flow: its latest version, or `?version=N`' })
  @ApiOkResponse({ type: FlowDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  async get(@Tenant() t: TenantContext, @Param('id') id: string, @Query() query: GetFlowQueryDto): Promise<FlowDto> {
    const { flow, version } = await this.flows.get(t.tenantId, id, query.version);
    return FlowDto.fromVersion(flow, version);
  }

  @Put(':id')
  @Audited('flow', 'replace')
  @ApiOperation({ summary: 'Replace a flow’s definition', description: `${UPDATE_NOTE} Unset settings take their defaults.` })
  @ApiOkResponse({ type: FlowDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'], [409, 'FLOW_ARCHIVED'])
  async replace(@Tenant() t: TenantContext, @Param('id') id: string, @Body() dto: ReplaceFlowDto): Promise<FlowDto> {
    const { flow, version } = await this.flows.update(t.tenantId, id, dto, 'replace');
    return FlowDto.fromVersion(flow, version);
  }

  @Patch(':id')
  @Audited('flow', 'update')
  @ApiOperation({ summary: 'Change part of a flow', description: `${UPDATE_NOTE} Unnamed fields and settings are kept.` })
  @ApiOkResponse({ type: FlowDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'], [409, 'FLOW_ARCHIVED'])
  async patch(@Tenant() t: TenantContext, @Param('id') id: string, @Body() dto: PatchFlowDto): Promise<FlowDto> {
    const { flow, version } = await this.flows.update(t.tenantId, id, dto, 'merge');
    return FlowDto.fromVersion(flow, version);
  }

  @Post(':id/archive')
  @Audited('flow', 'archive')
  @HttpCode(200)
  @ApiOperation({ summary: 'Archive a flow: no new processes start with it; its versions stay readable' })
  @ApiOkResponse({ type: FlowDto })
  @ApiErrors([404, 'NOT_FOUND'])
  async archive(@Tenant() t: TenantContext, @Param('id') id: string): Promise<FlowDto> {
    const { flow, version } = await this.flows.archive(t.tenantId, id);
    return FlowDto.fromVersion(flow, version);
  }

  @Delete(':id')
  @Audited('flow', 'archive')
  @HttpCode(204)
  @ApiOperation({ summary: 'Archive a flow (same as POST /v1/flows/{id}/archive; nothing is deleted)' })
  @ApiNoContentResponse({ description: 'Archived' })
  @ApiErrors([404, 'NOT_FOUND'])
  async remove(@Tenant() t: TenantContext, @Param('id') id: string): Promise<void> {
    await this.flows.archive(t.tenantId, id);
  }
}
