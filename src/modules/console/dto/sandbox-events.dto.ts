import { ApiProperty } from '@nestjs/swagger';
import { Trim } from '../../../common/http/transforms.js';
import { IsE164Phone } from '../../../common/phone/phone.js';

export class SandboxEventsQueryDto {
  @ApiProperty({ example: '+14155550100', description: 'Your sandbox line' })
  @Trim()
  @IsE164Phone()
  waba_phone_number: string;

  @ApiProperty({ example: '+573001234567', description: 'The simulated user' })
  @Trim()
  @IsE164Phone()
  phone: string;
}
