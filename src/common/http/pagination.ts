import { applyDecorators, Type as ClassType } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppError } from '../errors/app-error.js';
import { ToInt } from './transforms.js';

/** Every id: a 3-letter prefix and a ULID (see newId). */
const ID_SHAPE = /^[A-Z]{3}[0-9A-HJKMNP-TV-Z]{26}$/;

/** The id prefix of each paginated table: a cursor of another list is refused rather than read as "before this id". */
const PREFIX_BY_TABLE: Record<string, string> = {
  messages: 'MSG',
  hooks: 'HOK',
  hook_deliveries: 'HKD',
  flows: 'FLW',
  processes: 'PRC',
  outbounds: 'OUT',
  consents: 'CNS',
  inbounds: 'INB',
  whatsapp_lines: 'WAN',
  tenants: 'TNT',
  api_keys: 'KEY',
  webhook_events: 'WHE',
  documents: 'DOC',
  sandbox_sms: 'SMS',
  evidence_checkpoints: 'CKP',
};

/** 400 unless `cursor` (already of the id shape) is an id of the list whose ids start with `prefix`. */
export function checkCursor(cursor: string | undefined, prefix: string | undefined): void {
  if (cursor && prefix && !cursor.startsWith(prefix)) {
    throw AppError.validation('cursor', `cursor must be the next_cursor of a previous page of this list (an id starting with ${prefix})`);
  }
}

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'Page size' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page (an id of the listed resource)', example: 'MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @IsString()
  @Matches(ID_SHAPE, { message: 'cursor must be the next_cursor of a previous page (an id such as MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C)' })
  cursor?: string;
}

export class PageDto<T> {
  data: T[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` to get the next page; null on the last page' })
  next_cursor: string | null;
}

/**
 * Newest first by the (time-sortable) id; the cursor is the last id of the page, so pages stay stable while rows
 * are added.
 */
export async function paginate<E extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<E>,
  page: PageQueryDto,
  idColumn = `${qb.alias}.id`,
): Promise<{ items: E[]; next_cursor: string | null }> {
  const limit = page.limit ?? 20;
  checkCursor(page.cursor, PREFIX_BY_TABLE[qb.expressionMap.mainAlias?.metadata?.tableName ?? '']);
  if (page.cursor) qb.andWhere(`${idColumn} < :cursor`, { cursor: page.cursor });
  const rows = await qb
    .orderBy(idColumn, 'DESC')
    .take(limit + 1)
    .getMany();
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? items[items.length - 1].id : null };
}

/** Swagger: a `{data: [Item], next_cursor}` response. */
export function ApiPageResponse(item: ClassType<unknown>) {
  return applyDecorators(
    ApiExtraModels(PageDto, item),
    ApiOkResponse({
      schema: {
        allOf: [{ $ref: getSchemaPath(PageDto) }, { properties: { data: { type: 'array', items: { $ref: getSchemaPath(item) } } }, required: ['data', 'next_cursor'] }],
      },
    }),
  );
}
