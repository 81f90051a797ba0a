import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { ToBoolean, Trim } from '../../../common/http/transforms.js';

export class SendOutboundDto {
  @ApiProperty({ example: '3001234567', description: "The user's number without the country code" })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(20)
  phone_number: string;

  @ApiProperty({ example: '57', description: 'Calling code (`57`, `+57`) or ISO country (`CO`); with phone_number it must form a valid mobile number' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(5)
  country_code: string;

  @ApiProperty({ example: 'OUT01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'An APPROVED outbound' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  outbound_id: string;

  @ApiPropertyOptional({
    example: true,
    description: 'Must be `true`: the user gave their opt-in to you. Recorded as consent (who, when, which API key). Otherwise 403 `OPT_IN_REQUIRED`.',
  })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'user_authorized must be true or false' })
  user_authorized?: boolean;

  @ApiPropertyOptional({
    example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C',
    description: 'Required when the outbound was created with is_notification=false: the flow the user is invited into (yours, active)',
  })
  @IsOptional()
  @Trim()
  @IsString()
  flow_id?: string;

  @ApiPropertyOptional({ example: 'Pepe,1234', description: 'Required when the outbound has parameters: comma-separated values, as many as parameters' })
  @IsOptional()
  @IsString()
  outbound_params?: string;

  @ApiPropertyOptional({
    example: 'DOC01JD3V6Q4T1Z0K6M3P9X2Y5B7C',
    description:
      "With flow_id: the contract (one of your documents, POST /v1/documents) that the flow's `document` step sends. Required when the flow has a `document` step without a fixed document_id.",
  })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  document_id?: string;

  @ApiPropertyOptional({ example: 'María José Pérez', description: "With document_id: the signer's name as you know it, printed on the signature page" })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  signer_name?: string;
}

export class SendOutboundResponseDto {
  @ApiProperty({ example: 'MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'Follow its delivery at GET /v1/whatsapp/messages/{message_id}' }) message_id: string;
  @ApiProperty({ enum: ['queued'], example: 'queued' }) status: 'queued';
  @ApiProperty({ example: 'OUT01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) outbound_id: string;
  @ApiProperty({ example: 'OSN01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'This send (for a flow invitation: the invitation)' }) send_id: string;
  @ApiProperty({ example: '+573001234567' }) phone_number: string;
  @ApiProperty({ nullable: true, type: String }) flow_id: string | null;
  @ApiProperty({ nullable: true, type: String }) document_id: string | null;
  @ApiProperty() created_at: string;
}
