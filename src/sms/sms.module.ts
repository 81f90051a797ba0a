import { Global, Module } from '@nestjs/common';
import { SandboxSmsAdapter } from './sandbox/sandbox-sms.adapter.js';
import { SmsService } from './sms.service.js';
import { TwilioSmsAdapter } from './twilio/twilio.adapter.js';

/** SMS port and adapters (sandbox, Twilio-compatible). No database access here. */
@Global()
@Module({
  providers: [SandboxSmsAdapter, TwilioSmsAdapter, SmsService],
  exports: [SmsService],
})
export class SmsModule {}
