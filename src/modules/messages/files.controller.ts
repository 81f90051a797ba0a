import { Controller, Get, Headers, Param } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { Tenant, TenantAuth } from '../../common/auth/api-key.guard.js';
import type { TenantContext } from '../../common/auth/api-key-resolver.js';
import { ApiErrors } from '../../common/http/api-errors.decorator.js';
import { contentDisposition } from '../../common/http/content-disposition.js';
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
    const etag = `"${file.sha256}"`;
    // Content-addressed: the ETag never changes for an id, so a private cache may keep it.
    const common = { etag, 'cache-control': 'private, max-age=31536000, immutable' };
    if (matches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: common });
    const { stream, sizeBytes } = await this.files.open(file);
    const headers: Record<string, string> = {
      ...common,
      'content-type': file.mimeType ?? 'application/octet-stream',
      'content-length': String(sizeBytes),
      'x-content-type-options': 'nosniff',
      'content-disposition': contentDisposition(file.filename),
    };
    return new Response(Readable.toWeb(stream) as unknown as ConstructorParameters<typeof Response>[0], { status: 200, headers });
  }
}

/** If-None-Match: `*`, or a list of (possibly weak) tags; compared weakly, as RFC 9110 says for it. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}
