import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'phone_number' }) field: string;
  @ApiProperty({ example: ['phone_number must be a valid phone number in E.164 format (+573001234567)'] }) messages: string[];
}

export class ErrorResponseDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable, machine-readable error code' }) code: string;
  @ApiProperty({ example: 'Validation failed: phone_number' }) message: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per-field errors, for VALIDATION_FAILED' }) details?: unknown;
  @ApiProperty({ example: '01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) requestId: string;
}
