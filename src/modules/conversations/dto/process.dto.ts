import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import { ProcessCheckpointDto } from '../../evidence/dto/checkpoint.dto.js';
import { FollowUpStateDto } from '../../reengagement/follow-up-state.dto.js';
import { PROCESS_STATUSES, type ProcessStatus } from '../entities/process.entity.js';

export class ListProcessesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @IsString()
  flow_id?: string;

  @ApiPropertyOptional({ enum: PROCESS_STATUSES })
  @IsOptional()
  @IsIn(PROCESS_STATUSES as unknown as string[])
  status?: ProcessStatus;

  @ApiPropertyOptional({ example: '+573001234567', description: "The user's phone number with country code" })
  @IsOptional()
  @Trim()
  @IsString()
  phone?: string;

  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'Started at or after' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'Started before' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
}

export class AnswerMediaDto {
  @ApiProperty({ example: 'MED01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ enum: ['pending', 'stored', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String, example: 'image/jpeg' }) mime_type: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 (hex) of the file' }) sha256: string | null;
  @ApiProperty({ nullable: true, type: Number }) size_bytes: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '/v1/files/MED01JD3V6Q4T1Z0K6M3P9X2Y5B7C/content',
    description: 'Where to download it (relative to this API), once stored',
  })
  content_url: string | null;
}

export class AnswerDto {
  @ApiProperty({ example: 'email' }) step_id: string;
  @ApiProperty({ example: 'question' }) step_type: string;
  @ApiProperty({ nullable: true, type: String, example: 'ana@example.com', description: 'What the user answered (an option id for choices)' })
  value: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'ana@example.com', description: 'The answer in canonical form' })
  normalized: string | null;
  @ApiProperty({ description: "Whether the answer passed the step's validation" }) valid: boolean;
  @ApiProperty({ nullable: true, type: String, example: 'invalid_email', description: 'Why it was rejected' }) error: string | null;
  @ApiProperty({ nullable: true, type: AnswerMediaDto }) media: AnswerMediaDto | null;
  @ApiProperty() answered_at: string;
}

export class ProcessDto {
  @ApiProperty({ example: 'PRC01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) process_id: string;
  @ApiProperty({ enum: PROCESS_STATUSES }) status: ProcessStatus;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'validation_failed',
    description:
      "Why it did not succeed: validation_failed, consent_declined, user_cancelled, user_declined, client_cancelled, expired; in contracting flows document_rejected, document_missing, otp_failed, otp_undeliverable, signature_failed; or an end step's failure_reason",
  })
  failure_reason: string | null;
  @ApiProperty({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) flow_id: string;
  @ApiProperty({ example: 1 }) flow_version: number;
  @ApiProperty({ example: 'WAN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) line_id: string;
  @ApiProperty({ example: '+573001234567', description: "The user's phone number" }) phone: string;
  @ApiProperty({ example: 'whatsapp' }) channel: 'whatsapp';
  @ApiProperty({ enum: ['inbound', 'outbound'], description: 'Started by the user (inbound message) or by an invitation (outbound)' })
  origin: string;
  @ApiProperty({ nullable: true, type: String, description: 'The inbound id or outbound send id that started it' }) origin_id: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The step waiting for an answer' }) current_step_id: string | null;
  @ApiProperty() started_at: string;
  @ApiProperty({ nullable: true, type: String }) finished_at: string | null;
  @ApiProperty({ description: 'When it expires if it does not finish first' }) expires_at: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/AnswerDto' },
    description: 'The last answer to each step, by step id',
  })
  answers: Record<string, AnswerDto>;
  @ApiProperty({ type: [AnswerDto], description: 'Every answer in order, invalid ones included' }) history: AnswerDto[];
  @ApiProperty({ type: FollowUpStateDto, nullable: true, description: 'The latest re-engagement follow-up of the process, null when none' })
  follow_up: FollowUpStateDto | null;
}

export class EvidenceEventDto {
  @ApiProperty({ example: 1 }) seq: number;
  @ApiProperty({ example: 'process.started' }) type: string;
  @ApiProperty() occurred_at: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What happened: ids, hashes, states (never a one-time code)' })
  payload: Record<string, unknown>;
  @ApiProperty({ description: 'The hash of the event before (64 zeros for the first)' }) prev_hash: string;
  @ApiProperty({ description: 'SHA-256(prev_hash ‖ RFC 8785 canonical JSON of {seq, type, occurred_at, payload}), hex' }) hash: string;
}

export class ProcessEvidenceDto {
  @ApiProperty() process_id: string;
  @ApiProperty({ type: [EvidenceEventDto] }) events: EvidenceEventDto[];
  @ApiProperty({ description: 'The hash of the last event (the chain head, also on the certificate)' }) head: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When the events were purged after retention: then `events` is empty and `head` is the tombstone’s (the Merkle leaves stay)',
  })
  purged_at: string | null;
  @ApiProperty({
    nullable: true,
    type: ProcessCheckpointDto,
    description: "Your latest signed checkpoint, when it covers one of this process's events (`leaf_index`, `seq`: the latest it covers); else null",
  })
  checkpoint: ProcessCheckpointDto | null;
  @ApiProperty({ type: [String], description: "RFC 9162 inclusion proof (hex, bottom first) of the checkpoint's leaf_index in its tree_size; [] without a checkpoint" })
  inclusion_proof: string[];
}

export class EvidenceChecksDto {
  @ApiProperty({ description: 'The chain recomputes from its first event to its head' }) chain: boolean;
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description:
      "The latest checkpoint's signature verifies, and the leaf of the process's latest event it covers, recomputed from that event's hash, proves into its root; null before a checkpoint covers the process",
  })
  checkpoint: boolean | null;
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description:
      "The signed contract's PAdES signature verifies under our chain, covers the whole file, and its SHA-256 is the one signature.completed recorded; null without a signed contract",
  })
  signed_document: boolean | null;
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description:
      'The certificate of evidence verifies like the contract, is the one certificate.issued recorded, and its attached evidence.json is this chain up to the seq it states; null before it is made',
  })
  certificate: boolean | null;
}

export class EvidenceVerificationDto {
  @ApiProperty() valid: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'The seq of the first event that does not verify' }) broken_at: number | null;
  @ApiProperty({ type: EvidenceChecksDto }) checks: EvidenceChecksDto;
  @ApiProperty({ nullable: true, type: String, description: 'Purged after retention: only the tombstone’s head is checked against the process' })
  purged_at: string | null;
}
