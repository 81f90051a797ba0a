import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { DocumentInfo } from '../documents.service.js';

export const TITLE_MAX = 200;
export const FILENAME_MAX = 255;

/** Query of a raw `application/pdf` upload (a multipart upload sends `title` as a field instead). */
export class UploadDocumentQueryDto {
  @ApiPropertyOptional({ maxLength: TITLE_MAX, example: 'Contrato de servicio 2026', description: 'Default: the filename without its extension' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(TITLE_MAX)
  title?: string;

  @ApiPropertyOptional({
    maxLength: FILENAME_MAX,
    example: 'contrato.pdf',
    description: 'For a raw body: the name the document is downloaded and sent under (default `document.pdf`)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(FILENAME_MAX)
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^/\\\u0000-\u001f]+$/, { message: 'filename must be a file name without path separators or control characters' })
  filename?: string;
}

/** Swagger: the multipart form of an upload. */
export class UploadDocumentFormDto {
  @ApiProperty({ type: 'string', format: 'binary', description: 'The PDF (at most 20 MB, not encrypted)' })
  file: unknown;

  @ApiPropertyOptional({ maxLength: TITLE_MAX, description: 'Default: the filename without its extension' })
  title?: string;
}

export class DocumentDto {
  @ApiProperty({ example: 'DOC01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) document_id: string;
  @ApiProperty({ example: 'Contrato de servicio 2026' }) title: string;
  @ApiProperty({ example: 'contrato.pdf' }) filename: string;
  @ApiProperty({ description: "SHA-256 of the PDF's bytes, hex", example: 'a3f5…' }) sha256: string;
  @ApiProperty({ example: 3 }) pages: number;
  @ApiProperty({ example: 48213 }) size_bytes: number;
  @ApiProperty({ nullable: true, type: String, description: 'The document this one was made from (a signed copy names its original)' })
  derived_from: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;

  static from(d: DocumentInfo): DocumentDto {
    return {
      document_id: d.id,
      title: d.title,
      filename: d.filename,
      sha256: d.sha256,
      pages: d.pages,
      size_bytes: d.sizeBytes,
      derived_from: d.derivedFrom,
      created_at: d.createdAt.toISOString(),
    };
  }
}
