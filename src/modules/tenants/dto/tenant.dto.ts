import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsDateString, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ToInt } from '../../../common/http/transforms.js';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../../common/auth/api-key-resolver.js';
import { Trim } from '../../../common/http/transforms.js';
import type { ApiKey } from '../entities/api-key.entity.js';
import type { Tenant } from '../entities/tenant.entity.js';

export class CreateTenantDto {
  @ApiProperty({ example: 'Banco Ejemplo S.A.', maxLength: 200 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
}

export class CreateApiKeyDto {
  @ApiPropertyOptional({ example: 'production backend', maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({
    enum: API_KEY_SCOPES,
    isArray: true,
    default: ['read', 'write'],
    description: '`read`: GET routes; `write`: POST, PUT, PATCH and DELETE routes; `admin-of-tenant`: the tenant audit log.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(3)
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes?: ApiKeyScope[];

  @ApiPropertyOptional({ example: '2026-12-31T23:59:59Z', description: 'After this instant the key is refused (401). Omitted: no expiry.' })
  @IsOptional()
  @IsDateString({ strict: true })
  expires_at?: string;
}

export class UpdateTenantDto {
  @ApiPropertyOptional({ example: 'Banco Ejemplo S.A.', maxLength: 200 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    example: 200,
    description: "Requests a second per API key of this tenant; null: the service's default (RATE_LIMIT_PER_SECOND)",
  })
  @ValidateIf((_o, v) => v !== null)
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100_000)
  rate_limit_per_second?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number, example: 400, description: "Requests an API key may send at once; null: the service's default (RATE_LIMIT_BURST)" })
  @ValidateIf((_o, v) => v !== null)
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  rate_limit_burst?: number | null;
}

export class TenantDto {
  @ApiProperty({ example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'Banco Ejemplo S.A.' }) name: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: Number, description: "Own API-key rate limit (requests a second); null: the service's default" }) rate_limit_per_second: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "Own API-key burst; null: the service's default" }) rate_limit_burst: number | null;

  static from(t: Tenant): TenantDto {
    return { id: t.id, name: t.name, created_at: t.createdAt.toISOString(), rate_limit_per_second: t.rateLimitPerSecond ?? null, rate_limit_burst: t.rateLimitBurst ?? null };
  }
}

export class ApiKeyDto {
  @ApiProperty({ example: 'KEY01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) tenant_id: string;
  @ApiProperty({ example: 'production backend' }) name: string;
  @ApiProperty({ example: 'tgk_9fQ2', description: 'First characters of the key, to recognise it' }) key_prefix: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;
  @ApiProperty({ nullable: true, type: String }) expires_at: string | null;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: ApiKeyScope[];
  @ApiProperty({ nullable: true, type: String, description: 'Last request with the key (recorded at most once a minute)' }) last_used_at: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Client address of that request' }) last_used_ip: string | null;

  static from(k: ApiKey): ApiKeyDto {
    return {
      id: k.id,
      tenant_id: k.tenantId,
      name: k.name,
      key_prefix: k.keyPrefix,
      created_at: k.createdAt.toISOString(),
      revoked_at: k.revokedAt?.toISOString() ?? null,
      expires_at: k.expiresAt?.toISOString() ?? null,
      scopes: k.scopes,
      last_used_at: k.lastUsedAt?.toISOString() ?? null,
      last_used_ip: k.lastUsedIp,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: 'tgk_9fQ2xN3…',
    description: 'The API key. Shown only in this response: store it now. Send it in the `Truora-API-Key` header.',
  })
  key: string;
}
