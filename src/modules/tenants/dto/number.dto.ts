import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { ToInt, Trim } from '../../../common/http/transforms.js';
import { IsE164Phone } from '../../../common/phone/phone.js';
import { LineSecrets, PROVIDERS, type ProviderName, type WhatsappLine } from '../entities/whatsapp-line.entity.js';

const SECRET = 'Write-only: never returned.';

class NumberCredentialsDto {
  @ApiPropertyOptional({ example: '106540352242922', description: 'cloud_api: the Graph API phone number id' })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  phone_number_id?: string;

  @ApiPropertyOptional({ example: '102290129340398', description: 'cloud_api: the WhatsApp Business Account id' })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  waba_id?: string;

  @ApiPropertyOptional({ description: `cloud_api: Graph API access token. ${SECRET}` })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  access_token?: string;

  @ApiPropertyOptional({ description: `cloud_api (and optionally bsp): app secret that signs webhooks. ${SECRET}` })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  app_secret?: string;

  @ApiPropertyOptional({ description: `cloud_api: token of the webhook verification handshake. ${SECRET}` })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  verify_token?: string;

  @ApiPropertyOptional({ description: `bsp: the BSP API key (header D360-API-KEY). ${SECRET}` })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  api_key?: string;

  @ApiPropertyOptional({ example: 'https://waba-v2.360dialog.io', description: 'bsp: base URL of the BSP API' })
  @IsOptional()
  @Trim()
  @IsUrl({ require_protocol: true, protocols: ['https', 'http'], require_tld: false })
  @MaxLength(500)
  base_url?: string;

  @ApiPropertyOptional({ default: 80, minimum: 1, maximum: 1000, description: 'Most messages per second sent from this line' })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(1000)
  throughput_mps?: number;
}

export class CreateNumberDto extends NumberCredentialsDto {
  @ApiProperty({ example: '+573001234567', description: "The line's phone number with country code (E.164)" })
  @Trim()
  @IsE164Phone()
  phone_number: string;

  @ApiProperty({ enum: PROVIDERS, example: 'cloud_api' })
  @IsIn(PROVIDERS as unknown as string[], { message: `provider must be one of: ${PROVIDERS.join(', ')}` })
  provider: ProviderName;
}

/** Credentials and throughput can change; the number and its provider cannot (register a new line instead). */
export class UpdateNumberDto extends NumberCredentialsDto {}

export class ListNumbersQueryDto extends PageQueryDto {}

export const SECRET_FIELDS = ['access_token', 'app_secret', 'verify_token', 'api_key'] as const satisfies ReadonlyArray<keyof LineSecrets>;

export class NumberDto {
  @ApiProperty({ example: 'WAN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: '+573001234567' }) phone_number: string;
  @ApiProperty({ enum: PROVIDERS }) provider: ProviderName;
  @ApiProperty({ nullable: true, type: String }) phone_number_id: string | null;
  @ApiProperty({ nullable: true, type: String }) waba_id: string | null;
  @ApiProperty({ nullable: true, type: String }) base_url: string | null;
  @ApiProperty({ example: 80 }) throughput_mps: number;
  @ApiProperty({ example: ['access_token', 'app_secret'], description: 'Which write-only credentials are set' })
  credentials_set: string[];
  @ApiProperty({
    example: '/v1/whatsapp/webhook',
    nullable: true,
    type: String,
    description: "Where the provider must send this line's webhooks; null for a sandbox line (nothing calls it: use the sandbox API)",
  })
  webhook_path: string | null;
  @ApiPropertyOptional({
    example: 'bwt_6QpX0c1Yb3…',
    description:
      'Only in the answer that creates it (a bsp line without app_secret, or POST …/webhook-token): the BSP must call ' +
      '`webhook_path?token=<this>`. Calls without it are refused with 401. It is not kept, only its hash.',
  })
  webhook_token?: string;
  @ApiProperty() created_at: string;
  @ApiProperty() updated_at: string;

  static from(l: WhatsappLine, webhookToken: string | null = null): NumberDto {
    return {
      ...(webhookToken ? { webhook_token: webhookToken } : {}),
      id: l.id,
      phone_number: l.phoneNumber,
      provider: l.provider,
      phone_number_id: l.phoneNumberId,
      waba_id: l.wabaId,
      base_url: l.baseUrl,
      throughput_mps: l.throughputMps,
      credentials_set: SECRET_FIELDS.filter((f) => !!l.secrets?.[f]),
      webhook_path: l.provider === 'bsp' ? `/v1/whatsapp/webhook/bsp/${l.id}` : l.provider === 'sandbox' ? null : '/v1/whatsapp/webhook',
      created_at: l.createdAt.toISOString(),
      updated_at: l.updatedAt.toISOString(),
    };
  }
}
