import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import { IsE164Phone } from '../../../common/phone/phone.js';

export class CreateInboundDto {
  @ApiProperty({ example: '+573001234567', description: 'Phone number, with country code, of one of your WhatsApp lines' })
  @Trim()
  @IsE164Phone()
  waba_phone_number: string;

  @ApiProperty({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'The flow the message starts' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  flow_id: string;

  @ApiProperty({ example: 'Hola, quiero validar mi identidad', description: 'The unique message users send to begin (case, accents and extra spaces are ignored when matching)' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  inbound_message: string;
}

export class ListInboundsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: '+573001234567' })
  @IsOptional()
  @Trim()
  @IsE164Phone()
  waba_phone_number?: string;

  @ApiPropertyOptional({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @IsString()
  flow_id?: string;
}

export class InboundDto {
  @ApiProperty({ example: 'INB01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) inbound_id: string;
  @ApiProperty({ example: '+573001234567' }) waba_phone_number: string;
  @ApiProperty({ example: 'FLW01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) flow_id: string;
  @ApiProperty({ example: 'Hola, quiero validar mi identidad' }) inbound_message: string;
  @ApiProperty({
    example: 'https://wa.me/573001234567?text=Hola%2C%20quiero%20validar%20mi%20identidad',
    description: 'Share it: it opens WhatsApp with the message ready to send',
  })
  link: string;
  @ApiProperty() created_at: string;
}
