import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { ApiPageResponse, PageDto } from '../../common/http/pagination.js';
import { CheckpointDto, CheckpointParamsDto, ConsistencyProofDto, ConsistencyQueryDto, ListCheckpointsQueryDto } from './dto/checkpoint.dto.js';
import { EvidenceCheckpoints } from './evidence-checkpoints.service.js';

@ApiTags('Evidence')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/evidence/checkpoints')
export class CheckpointsController {
  constructor(private readonly checkpoints: EvidenceCheckpoints) {}

  @Get()
  @ApiOperation({ summary: 'Your signed Merkle checkpoints of the evidence tree, newest first (see docs/evidence.md#checkpoints)' })
  @ApiPageResponse(CheckpointDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  list(@Tenant() t: TenantContext, @Query() q: ListCheckpointsQueryDto): Promise<PageDto<CheckpointDto>> {
    return this.checkpoints.list(t.tenantId, q);
  }

  @Get(':tree_size/consistency')
  @ApiOperation({ summary: 'The RFC 9162 consistency proof from the tree of `from` leaves to this checkpoint: the later tree extends the earlier one' })
  @ApiOkResponse({ type: ConsistencyProofDto })
  @ApiErrors([400, 'VALIDATION_FAILED'], [404, 'NOT_FOUND'])
  consistency(@Tenant() t: TenantContext, @Param() p: CheckpointParamsDto, @Query() q: ConsistencyQueryDto): Promise<ConsistencyProofDto> {
    return this.checkpoints.consistency(t.tenantId, p.tree_size, q.from);
  }
}
