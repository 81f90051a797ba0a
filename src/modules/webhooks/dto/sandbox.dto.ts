import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import { IsE164Phone } from '../../../common/phone/phone.js';

export class SandboxInboundDto {
  @ApiProperty({ example: '+14155550100', description: 'Your sandbox line, with country code' })
  @Trim()
  @IsE164Phone()
  waba_phone_number: string;

  @ApiProperty({ example: '+573001234567', description: 'The simulated user writing to the line' })
  @Trim()
  @IsE164Phone()
  from: string;

  @ApiPropertyOptional({ example: 'Hola', description: 'A text message. Give exactly one of text, reply_id, media_type' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  text?: string;

  @ApiPropertyOptional({ example: 'accept', description: 'The id of a tapped reply button or list row' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  reply_id?: string;

  @ApiPropertyOptional({
    example: 'Acepto',
    description: 'The title of the tapped button or row. Default: the title of the option with reply_id in the last prompt sent to the user on the line (else reply_id)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  reply_title?: string;

  @ApiPropertyOptional({ enum: ['image', 'document'], description: 'Sends a placeholder image or PDF' })
  @IsOptional()
  @IsIn(['image', 'document'])
  media_type?: 'image' | 'document';

  @ApiPropertyOptional({ example: 'cedula.pdf' })
  @IsOptional()
  @IsString()
  @MaxLength(240)
  filename?: string;

  @ApiPropertyOptional({ example: 'Mi documento' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  caption?: string;
}

export class SandboxInboundAcceptedDto {
  @ApiProperty({ example: 'wamid.SANDBOXIN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) wamid: string;
  @ApiProperty({ example: 'WHE01JD3V6Q4T1Z0K6M3P9X2Y5B7C', description: 'The stored webhook event; processed right after' })
  event_id: string;
}

export class SandboxMessagesQueryDto extends PageQueryDto {
  @ApiProperty({ example: '+14155550100' })
  @Trim()
  @IsE164Phone()
  waba_phone_number: string;

  @ApiProperty({ example: '+573001234567' })
  @Trim()
  @IsE164Phone()
  phone: string;
}
