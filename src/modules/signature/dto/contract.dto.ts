import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ProcessDto } from '../../conversations/dto/process.dto.js';

export class OriginalDocumentDto {
  @ApiProperty({ example: 'DOC01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) document_id: string;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }) sha256: string;
  @ApiProperty({ nullable: true, type: String, description: 'When the person confirmed they received and reviewed it' }) confirmed_at: string | null;
}

export class SignedDocumentDto {
  @ApiProperty({ example: 'DOC01JD3V6Q4T1Z0K6M3P9X2Y5B7D', description: 'Also at GET /v1/processes/{process_id}/documents/signed.pdf' }) document_id: string;
  @ApiProperty() sha256: string;
  @ApiProperty() signed_at: string;
  @ApiProperty({ enum: ['B-B', 'B-T', 'B-LT', 'B-LTA'], description: 'PAdES baseline level: B-T and up with TSA_URL set' }) level: string;
}

export class SigningStateDto {
  @ApiProperty({ enum: ['none', 'signing', 'signed', 'failed'] }) state: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why signing waits (a time-stamping authority that does not answer, …) or failed' }) error: string | null;
}

export class ProcessDocumentsDto {
  @ApiProperty({ type: OriginalDocumentDto }) original: OriginalDocumentDto;
  @ApiProperty({ type: SignedDocumentDto, nullable: true }) signed: SignedDocumentDto | null;
  @ApiProperty({ type: SigningStateDto }) signing: SigningStateDto;
}

export class OtpStateDto {
  @ApiProperty() step_id: string;
  @ApiProperty({ enum: ['sms', 'whatsapp'] }) channel: string;
  @ApiProperty({ enum: ['sending', 'sent', 'verified', 'failed', 'undeliverable'] }) status: string;
  @ApiProperty({ nullable: true, type: String }) sent_at: string | null;
  @ApiProperty() expires_at: string;
  @ApiProperty({ nullable: true, type: String }) verified_at: string | null;
  @ApiProperty({ description: 'Wrong codes typed' }) attempts: number;
  @ApiProperty() resends: number;
}

// The contract's part of every process result (GET /v1/processes, the process and signature hooks): documented on
// the engine's ProcessDto from here, the module that fills it.
ApiPropertyOptional({ type: ProcessDocumentsDto, nullable: true, description: 'The contract of a process with a document step; null otherwise' })(
  ProcessDto.prototype,
  'documents',
);
ApiPropertyOptional({ type: OtpStateDto, nullable: true, description: "The one-time code's state (never the code); null without an otp step" })(ProcessDto.prototype, 'otp');
