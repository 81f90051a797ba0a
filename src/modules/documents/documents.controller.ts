import { Controller, Get, Headers, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response as ExpressResponse } from 'express';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { AppError } from '../../common/errors/app-error.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { fileResponse } from '../../common/http/file-response.js';
import { ApiPageResponse, PageDto, PageQueryDto } from '../../common/http/pagination.js';
import { Audited } from '../audit/audited.decorator.js';
import { DocumentsService } from './documents.service.js';
import { DocumentDto, FILENAME_MAX, TITLE_MAX, UploadDocumentFormDto, UploadDocumentQueryDto } from './dto/document.dto.js';
import { DOCUMENT_MAX_BYTES, readUpload } from './upload-body.js';

/** The route whose body is read here, streamed, instead of by the global body parsers. */
export const DOCUMENT_UPLOAD_ROUTE = { method: 'POST', path: '/v1/documents' } as const;

@ApiTags('Documents')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Post()
  @Audited('document', 'create')
  @ApiOperation({
    summary: 'Upload a contract document (a PDF of at most 20 MB)',
    description:
      'Either `multipart/form-data` with the PDF in `file` and an optional `title`, or the PDF itself as the body (`Content-Type: application/pdf`) ' +
      'with `?title=` and `?filename=`. The PDF is parsed: one that does not parse or has no pages is 400 `INVALID_PDF`, an encrypted one ' +
      '400 `PDF_ENCRYPTED`. A document is never changed; a copy made from it (a signed contract) is a new document naming it in `derived_from`.',
  })
  @ApiConsumes('multipart/form-data', 'application/pdf')
  @ApiBody({ type: UploadDocumentFormDto })
  @ApiCreatedResponse({ type: DocumentDto })
  @ApiErrors([400, 'VALIDATION_FAILED', 'INVALID_PDF', 'PDF_ENCRYPTED'], [413, 'PAYLOAD_TOO_LARGE'], [415, 'UNSUPPORTED_MEDIA_TYPE'])
  async upload(@Tenant() t: TenantContext, @Query() q: UploadDocumentQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: ExpressResponse): Promise<DocumentDto> {
    const upload = await readUpload(req, res, DOCUMENT_MAX_BYTES);
    const filename = cleanFilename(upload.filename ?? q.filename ?? 'document.pdf');
    const title = (upload.title ?? q.title ?? '').trim() || filename.replace(/\.[^.]*$/, '') || filename;
    if (title.length > TITLE_MAX) throw AppError.validation('title', `title must be shorter than or equal to ${TITLE_MAX} characters`);
    // The audit row records what was stored, not the bytes.
    req.body = { title, filename };
    return DocumentDto.from(await this.documents.upload(t.tenantId, upload.bytes, { title, filename }));
  }

  @Get()
  @ApiOperation({ summary: 'Your documents, newest first' })
  @ApiPageResponse(DocumentDto)
  @ApiErrors([400, 'VALIDATION_FAILED'])
  async list(@Tenant() t: TenantContext, @Query() page: PageQueryDto): Promise<PageDto<DocumentDto>> {
    const { items, next_cursor } = await this.documents.list(t.tenantId, page);
    return { data: items.map((d) => DocumentDto.from(d)), next_cursor };
  }

  @Get(':document_id')
  @ApiOperation({ summary: 'A document' })
  @ApiOkResponse({ type: DocumentDto })
  @ApiErrors([404, 'DOCUMENT_NOT_FOUND'])
  async get(@Tenant() t: TenantContext, @Param('document_id') id: string): Promise<DocumentDto> {
    return DocumentDto.from(await this.documents.get(t.tenantId, id));
  }

  @Get(':document_id/content')
  @ApiOperation({
    summary: "The document's PDF, streamed",
    description: 'ETag is its SHA-256 in quotes (send it back in If-None-Match for a 304); Content-Disposition names the file.',
  })
  @ApiProduces('application/pdf')
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag received before: 304 when the document has it' })
  @ApiResponse({ status: 200, description: 'The PDF', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 304, description: "Not modified: the ETag given is the document's" })
  @ApiErrors([404, 'DOCUMENT_NOT_FOUND'])
  async content(@Tenant() t: TenantContext, @Param('document_id') id: string, @Headers('if-none-match') ifNoneMatch?: string): Promise<Response> {
    const doc = await this.documents.get(t.tenantId, id);
    return fileResponse({ sha256: doc.sha256, contentType: 'application/pdf', filename: doc.filename, open: () => this.documents.open(t.tenantId, doc) }, ifNoneMatch);
  }
}

/** The last path segment of a client's filename (browsers on Windows may send `C:\…\x.pdf`), without control characters. */
function cleanFilename(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (clean || 'document.pdf').slice(0, FILENAME_MAX);
}
