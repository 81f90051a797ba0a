import { Controller, Get, Headers, Param } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { fileResponse } from '../../common/http/file-response.js';
import { FilesService } from './files.service.js';

@ApiTags('Files')
@TenantAuth()
@ApiErrors([401, 'UNAUTHENTICATED'])
@Controller('v1/files')
export class FilesController {
  constructor(private readonly files: FilesService) {}

  @Get(':id/content')
  @ApiOperation({
    summary: "A stored file's bytes (a media answer, a message's image or document), streamed",
    description:
      "Content-Type is the file's MIME type, ETag its SHA-256 in quotes (send it back in If-None-Match for a 304), " +
      'Content-Disposition names the file when its name is known. The `content_url` of media in process results and messages points here.',
  })
  @ApiProduces('application/octet-stream')
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag received before: 304 when the file has it' })
  @ApiResponse({ status: 200, description: 'The bytes', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 304, description: "Not modified: the ETag given is the file's" })
  @ApiErrors([404, 'NOT_FOUND'], [409, 'FILE_NOT_STORED'])
  async content(@Tenant() t: TenantContext, @Param('id') id: string, @Headers('if-none-match') ifNoneMatch?: string): Promise<Response> {
    const file = await this.files.get(t.tenantId, id);
    return fileResponse(
      { sha256: file.sha256 ?? '', contentType: file.mimeType ?? 'application/octet-stream', filename: file.filename, open: () => this.files.open(file) },
      ifNoneMatch,
    );
  }
}
