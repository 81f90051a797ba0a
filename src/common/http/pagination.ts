import { applyDecorators, Type as ClassType } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ToInt } from './transforms.js';

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'Page size' })
  @IsOptional() @ToInt() @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page' })
  @IsOptional() @IsString()
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
  if (page.cursor) qb.andWhere(`${idColumn} < :cursor`, { cursor: page.cursor });
  const rows = await qb.orderBy(idColumn, 'DESC').take(limit + 1).getMany();
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? items[items.length - 1].id : null };
}

/** Swagger: a `{data: [Item], next_cursor}` response. */
export function ApiPageResponse(item: ClassType<unknown>) {
  return applyDecorators(
    ApiExtraModels(PageDto, item),
    ApiOkResponse({
      schema: {
        allOf: [
          { $ref: getSchemaPath(PageDto) },
          { properties: { data: { type: 'array', items: { $ref: getSchemaPath(item) } } }, required: ['data', 'next_cursor'] },
        ],
      },
    }),
  );
}
