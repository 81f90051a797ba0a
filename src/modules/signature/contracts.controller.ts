import { Controller, Get, Headers, Param } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { fileResponse } from '../../common/http/file-response.js';
import { DocumentsService } from '../documents/documents.service.js';
import { ContractsService } from './contracts.service.js';

@ApiTags('Processes (results)')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/processes')
export class ContractsController {
  constructor(
    private readonly contracts: ContractsService,
    private readonly documents: DocumentsService,
  ) {}

  @Get(':process_id/documents/signed.pdf')
  @ApiOperation({
    summary: "A process's signed contract (PAdES), as sent to the person",
    description: 'ETag is its SHA-256 in quotes (If-None-Match answers 304); the same document is at GET /v1/documents/{document_id}/content.',
  })
  @ApiProduces('application/pdf')
  @ApiResponse({ status: 200, description: 'The signed PDF', schema: { type: 'string', format: 'binary' } })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'DOCUMENT_NOT_SIGNED'])
  async signed(@Tenant() t: TenantContext, @Param('process_id') id: string, @Headers('if-none-match') ifNoneMatch?: string): Promise<Response> {
    const document = await this.contracts.signedDocument(t.tenantId, id);
    return fileResponse(
      { sha256: document.sha256, contentType: 'application/pdf', filename: document.filename, open: () => this.documents.open(t.tenantId, document) },
      ifNoneMatch,
    );
  }
}
