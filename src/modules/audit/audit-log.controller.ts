import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth } from '../../common/auth/admin.guard.js';
import { RequiresScope, Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { AuditLogService } from './audit-log.service.js';
import { AdminListAuditLogQueryDto, AuditEntryDto, ListAuditLogQueryDto } from './dto/audit-log.dto.js';

const WHAT = 'every change to lines, flows, inbounds, outbounds, hooks, settings and API keys, with who made it, when, the request id and client address; secrets never appear';

@ApiTags('Audit log')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/audit-log')
export class AuditLogController {
  constructor(private readonly audit: AuditLogService) {}

  @Get()
  @RequiresScope('admin-of-tenant')
  @ApiOperation({
    summary: 'Your configuration audit log, newest first (needs the admin-of-tenant scope)',
    description: `Lists ${WHAT}, including the admin's changes to your tenant.`,
  })
  @ApiPageResponse(AuditEntryDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() q: ListAuditLogQueryDto): Promise<PageDto<AuditEntryDto>> {
    const { items, next_cursor } = await this.audit.list(t.tenantId, q);
    return { data: items.map(AuditEntryDto.from), next_cursor };
  }
}

@ApiTags('Admin')
@AdminAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/admin/audit-log')
export class AdminAuditLogController {
  constructor(private readonly audit: AuditLogService) {}

  @Get()
  @ApiOperation({ summary: "Every tenant's configuration audit log and the admin's actions, newest first", description: `Lists ${WHAT}; \`tenant_id\` keeps one tenant's.` })
  @ApiPageResponse(AuditEntryDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Query() q: AdminListAuditLogQueryDto): Promise<PageDto<AuditEntryDto>> {
    const { items, next_cursor } = await this.audit.list(q.tenant_id, q);
    return { data: items.map(AuditEntryDto.from), next_cursor };
  }
}
