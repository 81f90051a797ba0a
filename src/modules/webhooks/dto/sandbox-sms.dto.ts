import { ApiProperty } from '@nestjs/swagger';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { IsE164Phone } from '../../../common/phone/phone.js';
import { Trim } from '../../../common/http/transforms.js';
import type { SandboxSms } from '../entities/sandbox-sms.entity.js';

export class SandboxSmsQueryDto extends PageQueryDto {
  @ApiProperty({ example: '+573001234567', description: 'The number the SMS went to' })
  @Trim()
  @IsE164Phone()
  phone: string;
}

export class SandboxSmsDto {
  @ApiProperty({ example: '+573001234567' }) to: string;
  @ApiProperty({ example: 'Tu código es 482913' }) body: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;

  static from(s: SandboxSms): SandboxSmsDto {
    return { to: s.phone, body: s.body, created_at: s.createdAt.toISOString() };
  }
}
