import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SmsProviderError } from '../sms-error.js';
import type { SandboxSmsRecorder, SmsProvider } from '../sms-provider.port.js';
import type { SentSms, SmsMessage } from '../sms.types.js';

/** No network: each SMS is handed to the recorder (the sandbox SMS inbox, `GET /v1/sandbox/sms`). */
@Injectable()
export class SandboxSmsAdapter implements SmsProvider {
  private recorder: SandboxSmsRecorder | null = null;

  /** Called once by the module that keeps the sandbox inbox. */
  useRecorder(recorder: SandboxSmsRecorder): void {
    this.recorder = recorder;
  }

  async send(_settings: unknown, message: SmsMessage): Promise<SentSms> {
    if (!this.recorder) throw new SmsProviderError('TRANSIENT', true, 'The sandbox SMS inbox is not running');
    const providerMessageId = `SMSANDBOX${randomBytes(12).toString('hex').toUpperCase()}`;
    await this.recorder.record(message, providerMessageId);
    return { providerMessageId };
  }
}
