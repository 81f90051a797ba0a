import type { SentSms, SmsMessage, SmsSettings } from './sms.types.js';

/** One SMS provider. Throws SmsProviderError; no database access. */
export interface SmsProvider {
  send(settings: SmsSettings, message: SmsMessage): Promise<SentSms>;
}

/**
 * Where the sandbox adapter records what it "sends". Registered from above (the sandbox API keeps them in a table),
 * since this layer has no database.
 */
export interface SandboxSmsRecorder {
  record(message: SmsMessage, providerMessageId: string): Promise<void>;
}
