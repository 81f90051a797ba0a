import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../../common/http/transforms.js';
import type { ApiKey } from '../entities/api-key.entity.js';
import type { Tenant } from '../entities/tenant.entity.js';

export class CreateTenantDto {
  @ApiProperty({ example: 'Banco Ejemplo S.A.', maxLength: 200 })
  @Trim() @IsString() @IsNotEmpty() @MaxLength(200)
  name: string;
}

export class CreateApiKeyDto {
  @ApiPropertyOptional({ example: 'production backend', maxLength: 100 })
  @IsOptional() @Trim() @IsString() @IsNotEmpty() @MaxLength(100)
  name?: string;
}

export class TenantDto {
  @ApiProperty({ example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'Banco Ejemplo S.A.' }) name: string;
  @ApiProperty() created_at: string;

  static from(t: Tenant): TenantDto {
    return { id: t.id, name: t.name, created_at: t.createdAt.toISOString() };
  }
}

export class ApiKeyDto {
  @ApiProperty({ example: 'KEY01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'TNT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) tenant_id: string;
  @ApiProperty({ example: 'production backend' }) name: string;
  @ApiProperty({ example: 'tgk_9fQ2', description: 'First characters of the key, to recognise it' }) key_prefix: string;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) revoked_at: string | null;

  static from(k: ApiKey): ApiKeyDto {
    return {
      id: k.id,
      tenant_id: k.tenantId,
      name: k.name,
      key_prefix: k.keyPrefix,
      created_at: k.createdAt.toISOString(),
      revoked_at: k.revokedAt?.toISOString() ?? null,
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
