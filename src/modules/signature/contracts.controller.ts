import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags, getSchemaPath, ApiExtraModels } from '@nestjs/swagger';
import type { Response as ExpressResponse } from 'express';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { fileResponse } from '../../common/http/file-response.js';
import { DocumentsService } from '../documents/documents.service.js';
import { CertificatesService } from './certificates.service.js';
import { ContractsService } from './contracts.service.js';
import { CertificatePendingDto } from './dto/verification.dto.js';

@ApiTags('Processes (results)')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@ApiExtraModels(CertificatePendingDto)
@Controller('v1/processes')
export class ContractsController {
  constructor(
    private readonly contracts: ContractsService,
    private readonly documents: DocumentsService,
    private readonly certificates: CertificatesService,
  ) {}

  @Get(':process_id/evidence/certificate.pdf')
  @ApiOperation({
    summary: "A finished process's certificate of evidence (PDF/A-3b, PAdES-sealed, evidence.json attached)",
    description:
      'Made by a job when the process ends: 202 with Retry-After while it is being made, 409 PROCESS_NOT_FINISHED before the end. ETag is its SHA-256 in quotes (If-None-Match answers 304).',
  })
  @ApiProduces('application/pdf')
  @ApiResponse({ status: 200, description: 'The certificate', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 202, description: 'Being made: ask again after Retry-After seconds', schema: { $ref: getSchemaPath(CertificatePendingDto) } })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'PROCESS_NOT_FINISHED'], [410, 'EVIDENCE_PURGED'])
  async certificate(
    @Tenant() t: TenantContext,
    @Param('process_id') id: string,
    @Res({ passthrough: true }) res: ExpressResponse,
    @Headers('if-none-match') ifNoneMatch?: string,
  ): Promise<Response | CertificatePendingDto> {
    const found = await this.certificates.find(t.tenantId, id);
    if (!found.ready) {
      res.status(202).setHeader('Retry-After', String(found.retryAfterSeconds));
      return { state: 'pending', retry_after_seconds: found.retryAfterSeconds };
    }
    const c = found.certificate;
    return fileResponse({ sha256: c.sha256!, contentType: 'application/pdf', filename: `certificate-${id}.pdf`, open: () => this.certificates.open(c) }, ifNoneMatch);
  }

  @Get(':process_id/documents/signed.pdf')
  @ApiOperation({
    summary: "A process's signed contract (PAdES), as sent to the person",
    description: 'ETag is its SHA-256 in quotes (If-None-Match answers 304); the same document is at GET /v1/documents/{document_id}/content.',
  })
  @ApiProduces('application/pdf')
  @ApiResponse({ status: 200, description: 'The signed PDF', schema: { type: 'string', format: 'binary' } })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'DOCUMENT_NOT_SIGNED'], [410, 'EVIDENCE_PURGED'])
  async signed(@Tenant() t: TenantContext, @Param('process_id') id: string, @Headers('if-none-match') ifNoneMatch?: string): Promise<Response> {
    const document = await this.contracts.signedDocument(t.tenantId, id);
    return fileResponse(
      { sha256: document.sha256, contentType: 'application/pdf', filename: document.filename, open: () => this.documents.open(t.tenantId, document) },
      ifNoneMatch,
    );
  }
}
