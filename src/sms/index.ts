/** What other modules use of the SMS port. */
export { SmsModule } from './sms.module.js';
export { SmsService } from './sms.service.js';
export { smsJobError, SmsProviderError, type SmsErrorCode } from './sms-error.js';
export type { SandboxSmsRecorder } from './sms-provider.port.js';
export * from './sms.types.js';
