import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import type { AuditLogEntry } from '../audit-log.entity.js';
import { AUDIT_RESOURCE_TYPES, type AuditResourceType } from '../audit-types.js';

export class ListAuditLogQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_RESOURCE_TYPES })
  @IsOptional()
  @IsIn(AUDIT_RESOURCE_TYPES as unknown as string[])
  resource_type?: AuditResourceType;

  @ApiPropertyOptional({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(200)
  resource_id?: string;

  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'Changes made at or after' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'Changes made before' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
}

export class AdminListAuditLogQueryDto extends ListAuditLogQueryDto {
  @ApiPropertyOptional({ example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(200)
  tenant_id?: string;
}

export class AuditEntryDto {
  @ApiProperty({ example: 'AUD01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ nullable: true, type: String, example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) tenant_id: string | null;
  @ApiProperty({ example: 'KEY01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'The API key id that made the change, or `admin` (the admin token)' })
  actor: string;
  @ApiProperty({ enum: AUDIT_RESOURCE_TYPES }) resource_type: string;
  @ApiProperty({ nullable: true, type: String, example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'For settings, the tenant id' })
  resource_id: string | null;
  @ApiProperty({ example: 'update', description: 'create, update, replace, archive, delete, revoke, rotate_secret, rotate_webhook_token' })
  action: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { name: 'KYC Colombia', access_token: '[REDACTED]' },
    description: 'The fields the request set; every secret reads `[REDACTED]`. A body over 64 kB: `{truncated: true, fields}`',
  })
  changes: object;
  @ApiProperty({ example: '2b0c7a4e-…', description: 'The `X-Request-Id` of the request' }) request_id: string;
  @ApiProperty({ nullable: true, type: String, example: '203.0.113.7', description: 'Client address (see TRUST_PROXY)' }) client_ip: string | null;
  @ApiProperty({ example: 'PATCH' }) method: string;
  @ApiProperty({ example: '/v1/flows/FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) path: string;
  @ApiProperty() occurred_at: string;

  static from(e: AuditLogEntry): AuditEntryDto {
    return {
      id: e.id,
      tenant_id: e.tenantId,
      actor: e.actor,
      resource_type: e.resourceType,
      resource_id: e.resourceId,
      action: e.action,
      changes: e.changes,
      request_id: e.requestId,
      client_ip: e.clientIp,
      method: e.method,
      path: e.path,
      occurred_at: e.occurredAt.toISOString(),
    };
  }
}
