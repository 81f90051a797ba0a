import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import { IsE164Phone } from '../../../common/phone/phone.js';
import type { Consent } from '../entities/consent.entity.js';

export class CreateConsentDto {
  @ApiProperty({ example: '+573001234567', description: "The user's number with country code" })
  @Trim()
  @IsString()
  @IsE164Phone()
  phone: string;

  @ApiProperty({ example: '2026-03-02T14:30:00Z', description: 'When the user gave the opt-in (ISO date or date-time). It lifts an opt-out only if newer than it.' })
  @Trim()
  @IsISO8601({ strict: true }, { message: 'given_at must be an ISO 8601 date or date-time, e.g. 2026-03-02T14:30:00Z' })
  given_at: string;

  @ApiProperty({ example: 'web_form', description: 'How it was collected (web_form, app, call_center, paper, …)' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  @Matches(/^[\w .:-]+$/, { message: 'source may hold letters, digits, spaces and _ . : -' })
  source: string;

  @ApiPropertyOptional({ example: 'https://example.com/consents/8f2a.pdf', maxLength: 2000, description: 'Your evidence of it (a reference, a URL to a signed form…)' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(2000)
  evidence?: string;
}

export class ListConsentsQueryDto extends PageQueryDto {
  @ApiProperty({ example: '+573001234567', description: "The user's number with country code" })
  @Trim()
  @IsString()
  @IsE164Phone()
  phone: string;
}

export class ConsentDto {
  @ApiProperty({ example: 'CNS01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: '+573001234567' }) phone: string;
  @ApiProperty({ enum: ['opt_in', 'opt_out'] }) kind: string;
  @ApiProperty({
    example: 'web_form',
    description:
      'Yours for opt-ins you record; else api_send (user_authorized on a send), keyword (stop/start keyword), whatsapp_preference, whatsapp_131050 (WhatsApp refused a marketing send), inbound_flow',
  })
  source: string;
  @ApiProperty({ description: 'When it was given' }) occurred_at: string;
  @ApiProperty({ description: 'When Testigo recorded it' }) recorded_at: string;
  @ApiProperty({ nullable: true, type: String, description: 'The API key that recorded it' }) api_key_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The line it came through' }) line_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Your evidence, or the keyword the user wrote' }) evidence: string | null;
  @ApiProperty({ description: 'Whether this opt-in lifts an earlier opt-out' }) lifts_opt_out: boolean;

  static from(c: Consent): ConsentDto {
    return {
      id: c.id,
      phone: c.phone,
      kind: c.kind,
      source: c.source,
      occurred_at: c.occurredAt.toISOString(),
      recorded_at: c.recordedAt.toISOString(),
      api_key_id: c.apiKeyId,
      line_id: c.lineId,
      evidence: c.evidence,
      lifts_opt_out: c.liftsOptOut,
    };
  }
}

export class ConsentStateDto {
  @ApiProperty({ example: '+573001234567' }) phone: string;
  @ApiProperty({ description: 'Sends to this user get 409 OPTED_OUT while true' }) opted_out: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'The opt-out in force, if any' }) opted_out_at: string | null;
}

export class CreateConsentResponseDto extends ConsentStateDto {
  @ApiProperty({ type: ConsentDto }) consent: ConsentDto;
}

export class ConsentListDto extends ConsentStateDto {
  @ApiProperty({ type: [ConsentDto], description: 'Every opt-in and opt-out, newest first' }) data: ConsentDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}
