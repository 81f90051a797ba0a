import { ApiProperty } from '@nestjs/swagger';

export class UploadSignatureDto {
  @ApiProperty({ description: 'The last PAdES signature of the file verifies under our signing chain (content and signer)' }) valid: boolean;
  @ApiProperty({ enum: ['B-B', 'B-T'], description: 'B-T: it carries an RFC 3161 timestamp' }) level: string;
  @ApiProperty({ nullable: true, type: String, description: "The timestamp's time (B-T), else the signing time it claims" }) signed_at: string | null;
}

export class UploadVerificationDto {
  @ApiProperty({ description: 'Signed with our key and matching a PDF issued here (a signed contract or a certificate of evidence)' }) issued_here: boolean;
  @ApiProperty({ nullable: true, enum: ['signed_document', 'certificate'] }) kind: 'signed_document' | 'certificate' | null;
  @ApiProperty({ nullable: true, type: String, description: 'The process it belongs to, when issued here' }) process_id: string | null;
  @ApiProperty({ description: 'It is byte for byte the file issued, with a valid seal over all of it' }) intact: boolean;
  @ApiProperty({ nullable: true, type: UploadSignatureDto, description: 'null when the file carries no signature' }) signature: UploadSignatureDto | null;
}

export class CertificatePendingDto {
  @ApiProperty({ enum: ['pending'] }) state: 'pending';
  @ApiProperty({ description: 'Seconds to wait before asking again (also in Retry-After)' }) retry_after_seconds: number;
}
