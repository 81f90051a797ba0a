import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { Audited } from '../audit/audited.decorator.js';
import { CustodyService } from './custody.service.js';
import { CustodyDto, ErasureDto, ErasureInputDto, LegalHoldInputDto } from './dto/custody.dto.js';

@ApiTags('Custody')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller()
export class CustodyController {
  constructor(private readonly custody: CustodyService) {}

  @Post('v1/processes/:process_id/legal-hold')
  @HttpCode(200)
  @Audited('process', 'legal_hold')
  @ApiOperation({ summary: "Put a process's evidence on legal hold: it is kept past its retention until released (recorded in its evidence)" })
  @ApiOkResponse({ type: CustodyDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'], [410, 'EVIDENCE_PURGED'])
  hold(@Tenant() t: TenantContext, @Param('process_id') id: string, @Body() dto: LegalHoldInputDto): Promise<CustodyDto> {
    return this.custody.hold(t.tenantId, id, dto.reason ?? null);
  }

  @Delete('v1/processes/:process_id/legal-hold')
  @Audited('process', 'legal_hold_release')
  @ApiOperation({ summary: 'Release a legal hold (recorded in the evidence); the retention applies again' })
  @ApiOkResponse({ type: CustodyDto })
  @ApiErrors([404, 'NOT_FOUND'], [410, 'EVIDENCE_PURGED'])
  release(@Tenant() t: TenantContext, @Param('process_id') id: string): Promise<CustodyDto> {
    return this.custody.release(t.tenantId, id);
  }

  @Post('v1/privacy/erasure')
  @HttpCode(200)
  @ApiOperation({
    summary: "A person's erasure request: deletes what is not in custody now; processes in custody record it and are kept until their retention ends",
    description: 'Opt-in and opt-out records stay: they are the legal basis of sending or not sending to the number.',
  })
  @ApiOkResponse({ type: ErasureDto })
  @ApiErrors([400, 'VALIDATION_FAILED'])
  erase(@Tenant() t: TenantContext, @Body() dto: ErasureInputDto): Promise<ErasureDto> {
    return this.custody.erase(t.tenantId, dto.phone);
  }
}
