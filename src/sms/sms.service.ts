import { Injectable } from '@nestjs/common';
import { SandboxSmsAdapter } from './sandbox/sandbox-sms.adapter.js';
import { SmsProviderError } from './sms-error.js';
import type { SandboxSmsRecorder, SmsProvider } from './sms-provider.port.js';
import type { SentSms, SmsMessage, SmsSettings } from './sms.types.js';
import { TwilioSmsAdapter } from './twilio/twilio.adapter.js';

/** Sends an SMS through the tenant's provider. Throws SmsProviderError (`retryable` says whether a job should retry). */
@Injectable()
export class SmsService {
  private readonly byName: Record<SmsSettings['provider'], SmsProvider>;

  constructor(
    private readonly sandbox: SandboxSmsAdapter,
    twilio: TwilioSmsAdapter,
  ) {
    this.byName = { sandbox, twilio };
  }

  async send(settings: SmsSettings, message: SmsMessage): Promise<SentSms> {
    const provider = this.byName[settings.provider];
    if (!provider) throw new SmsProviderError('INVALID_REQUEST', false, `Unknown SMS provider ${String(settings.provider)}`);
    if (!message.body) throw new SmsProviderError('INVALID_REQUEST', false, 'The SMS body is empty');
    return provider.send(settings, message);
  }

  /** Where sandbox SMS are recorded (registered by the module that serves the sandbox inbox). */
  useSandboxRecorder(recorder: SandboxSmsRecorder): void {
    this.sandbox.useRecorder(recorder);
  }
}
