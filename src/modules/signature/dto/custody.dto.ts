import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ProcessDto } from '../../conversations/dto/process.dto.js';

export class LegalHoldDto {
  @ApiProperty({ nullable: true, type: String, example: 'Claim 2026-114' }) reason: string | null;
  @ApiProperty() held_at: string;
}

export class CustodyDto {
  @ApiProperty({ type: LegalHoldDto, nullable: true, description: 'Keeps the evidence past its retention while set' }) legal_hold: LegalHoldDto | null;
  @ApiProperty({ nullable: true, type: String, description: "When the purge may take it: the end plus the tenant's evidence_retention_days; null while it runs" })
  retained_until: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'When its documents, payloads and personal data were purged' }) purged_at: string | null;
}

export class LegalHoldInputDto {
  @ApiPropertyOptional({ example: 'Claim 2026-114', description: 'Why (kept with the hold and recorded in the evidence)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason?: string;
}

export class ErasureInputDto {
  @ApiProperty({ example: '+573001234567', description: "The person's phone number with its country code" })
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  phone: string;
}

export class KeptProcessDto {
  @ApiProperty() process_id: string;
  @ApiProperty({ nullable: true, type: String }) retained_until: string | null;
}

export class ErasureDto {
  @ApiProperty({ example: '+57 300 ••• 4567', description: 'The number, masked' }) phone: string;
  @ApiProperty({ description: 'Messages outside any process blanked, with their media deleted' }) erased_messages: number;
  @ApiProperty({ type: [KeptProcessDto], description: 'Processes in custody, kept until their retention ends (each recorded the request)' })
  kept_in_custody: KeptProcessDto[];
}

// The engine's ProcessDto gains `custody` from here, the module that fills it.
ApiProperty({ type: CustodyDto, description: 'Custody of the evidence: retention, legal hold, purge' })(ProcessDto.prototype, 'custody');
