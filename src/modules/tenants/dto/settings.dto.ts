import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { ParseJsonString } from '../../../common/http/transforms.js';
import { DEFAULT_KEYWORDS, type TenantSettings } from '../entities/tenant.entity.js';

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

  @KeywordList(['salir', 'exit'], 'Cancel the running process.')
  exit_keywords?: string[];

  @KeywordList(['STOP', 'BAJA'], 'Opt the user out of sends.')
  stop_keywords?: string[];

  @KeywordList(['START', 'ALTA'], 'Lift an opt-out.')
  start_keywords?: string[];
}

export class SettingsDto {
  @ApiPropertyOptional({ nullable: true, type: String }) fallback_text: string | null;
  @ApiPropertyOptional({ type: [String], example: ['salir', 'exit'] }) exit_keywords: string[];
  @ApiPropertyOptional({ type: [String], example: ['STOP', 'BAJA', 'PARAR', 'CANCELAR SUSCRIPCION'] }) stop_keywords: string[];
  @ApiPropertyOptional({ type: [String], example: ['START', 'ALTA'] }) start_keywords: string[];

  static from(s: TenantSettings): SettingsDto {
    return {
      fallback_text: s.fallback_text ?? null,
      exit_keywords: s.exit_keywords ?? [...DEFAULT_KEYWORDS.exit],
      stop_keywords: s.stop_keywords ?? [...DEFAULT_KEYWORDS.stop],
      start_keywords: s.start_keywords ?? [...DEFAULT_KEYWORDS.start],
    };
  }
}
