import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { SMS_PROVIDERS, TWILIO_ACCOUNT_SID, type SmsProviderName, type SmsSettings } from '../../../sms/sms.types.js';
import { ParseJsonString, ToInt } from '../../../common/http/transforms.js';
import { DEFAULT_EVIDENCE_RETENTION_DAYS, DEFAULT_KEYWORDS, type TenantSettings } from '../entities/tenant.entity.js';

/** A tenant's keyword list: up to 20 keywords of 1 to 60 characters, replacing the defaults. */
const KeywordList = (example: string[], purpose: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: [String], example, description: `${purpose} Replaces the defaults. In form bodies, a JSON array string.` }),
    IsOptional(),
    ParseJsonString(),
    IsArray(),
    ArrayMaxSize(20),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(60, { each: true }),
  );

/** `sms` of PATCH /v1/settings. Which fields a provider needs is checked by TenantsService (naming `sms.<field>`). */
export class SmsSettingsInputDto {
  @ApiProperty({ enum: SMS_PROVIDERS, description: "`sandbox` records each SMS (`GET /v1/sandbox/sms`); `twilio` sends through Twilio's Messages API" })
  @IsIn(SMS_PROVIDERS as unknown as string[])
  provider: SmsProviderName;

  @ApiPropertyOptional({ example: 'AC0123456789abcdef0123456789abcdef', description: 'twilio: the account SID, `AC` and 32 hex digits' })
  @IsOptional()
  @IsString()
  @Matches(TWILIO_ACCOUNT_SID, { message: 'account_sid must be a Twilio account SID: AC and 32 hex digits' })
  account_sid?: string;

  @ApiPropertyOptional({ writeOnly: true, description: "twilio: the account's auth token. Never shown again; omitted on a change of the same account, the current one is kept" })
  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(256)
  auth_token?: string;

  @ApiPropertyOptional({ example: '+14155550111', description: 'twilio: the sender, an E.164 number of the account or a messaging service SID (`MG…`)' })
  @IsOptional()
  @IsString()
  @Matches(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, { message: 'from must be an E.164 number (+14155550111) or a messaging service SID (MG and 32 hex digits)' })
  from?: string;

  @ApiPropertyOptional({ example: 'https://api.twilio.com', description: 'twilio: a Twilio-compatible API (https); default https://api.twilio.com' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  base_url?: string;
}

/** A JSON object, or a form field holding one as JSON text, as an SmsSettingsInputDto to validate. */
const toSmsInput = ({ value }: { value: unknown }) => {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return value;
    }
  }
  return v && typeof v === 'object' && !Array.isArray(v) ? plainToInstance(SmsSettingsInputDto, v) : v;
};

export class SmsSettingsDto {
  @ApiProperty({ enum: SMS_PROVIDERS }) provider: SmsProviderName;
  @ApiProperty({ nullable: true, type: String }) account_sid: string | null;
  @ApiProperty({ nullable: true, type: String }) from: string | null;
  @ApiProperty({ nullable: true, type: String }) base_url: string | null;
  @ApiProperty({ description: 'Whether an auth token is stored (it is never shown)' }) auth_token_set: boolean;

  static from(s: SmsSettings): SmsSettingsDto {
    const twilio = s.provider === 'twilio' ? s : null;
    return { provider: s.provider, account_sid: twilio?.account_sid ?? null, from: twilio?.from ?? null, base_url: twilio?.base_url ?? null, auth_token_set: !!twilio?.auth_token };
  }
}

export class UpdateSettingsDto {
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'Hola, escribe "Quiero empezar" para iniciar.',
    description: 'Sent when a message matches no process and no inbound; null to send nothing',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  fallback_text?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    minimum: 1,
    maximum: 36500,
    example: 365,
    description:
      "Days after a process finished that its messages' bodies and media are kept, then deleted (the evidence log is not); null: the service's MESSAGES_RETENTION_DAYS (400)",
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(36500)
  messages_retention_days?: number | null;

  @KeywordList(['salir', 'exit'], 'Cancel the running process.')
  exit_keywords?: string[];

  @KeywordList(['STOP', 'BAJA'], 'Opt the user out of sends.')
  stop_keywords?: string[];

  @KeywordList(['START', 'ALTA'], 'Lift an opt-out.')
  start_keywords?: string[];

  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    example: 1825,
    description: `Days a finished process's evidence is kept in custody before it is purged (${DEFAULT_EVIDENCE_RETENTION_DAYS}, 5 years, by default; null: back to it); legal holds keep a process past it`,
  })
  @IsOptional()
  @ToInt()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(36_500)
  evidence_retention_days?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    type: SmsSettingsInputDto,
    description: 'The SMS provider of one-time codes; null removes it. In form bodies, a JSON object string.',
  })
  @IsOptional()
  @Transform(toSmsInput)
  @ValidateIf((_, v) => v !== null)
  @IsObject()
  @ValidateNested()
  sms?: SmsSettingsInputDto | null;
}

export class SettingsDto {
  @ApiPropertyOptional({ nullable: true, type: String }) fallback_text: string | null;
  @ApiPropertyOptional({ type: [String], example: ['salir', 'exit'] }) exit_keywords: string[];
  @ApiPropertyOptional({ type: [String], example: ['STOP', 'BAJA', 'PARAR', 'CANCELAR SUSCRIPCION'] }) stop_keywords: string[];
  @ApiPropertyOptional({ type: [String], example: ['START', 'ALTA'] }) start_keywords: string[];
  @ApiProperty({ nullable: true, type: Number, description: "The tenant's own retention of message bodies, in days; null: MESSAGES_RETENTION_DAYS" })
  messages_retention_days: number | null;
  @ApiProperty({ nullable: true, type: SmsSettingsDto, description: 'The SMS provider, without its auth token' }) sms: SmsSettingsDto | null;
  @ApiProperty({ example: 1825, description: "Days a finished process's evidence is kept before the purge" }) evidence_retention_days: number;

  static from(s: TenantSettings, sms: SmsSettings | null): SettingsDto {
    return {
      fallback_text: s.fallback_text ?? null,
      exit_keywords: s.exit_keywords ?? [...DEFAULT_KEYWORDS.exit],
      stop_keywords: s.stop_keywords ?? [...DEFAULT_KEYWORDS.stop],
      start_keywords: s.start_keywords ?? [...DEFAULT_KEYWORDS.start],
      messages_retention_days: s.messages_retention_days ?? null,
      sms: sms ? SmsSettingsDto.from(sms) : null,
      evidence_retention_days: s.evidence_retention_days ?? DEFAULT_EVIDENCE_RETENTION_DAYS,
    };
  }
}
