/** The SMS provider a tenant chose (`PATCH /v1/settings` → `sms`), with its credentials in clear. */
export type SmsSettings = SandboxSmsSettings | TwilioSmsSettings;

export interface SandboxSmsSettings {
  provider: 'sandbox';
}

export interface TwilioSmsSettings {
  provider: 'twilio';
  /** `AC` + 32 hex digits. */
  account_sid: string;
  auth_token: string;
  /** The sender: an E.164 number of the account, or a messaging service SID (`MG…`). */
  from: string;
  /** A Twilio-compatible API's base URL; default https://api.twilio.com. */
  base_url?: string;
}

export const SMS_PROVIDERS = ['sandbox', 'twilio'] as const;
export type SmsProviderName = (typeof SMS_PROVIDERS)[number];

/** One text message to one number. */
export interface SmsMessage {
  tenantId: string;
  /** E.164. */
  to: string;
  body: string;
}

export interface SentSms {
  /** The provider's id of the message (Twilio's `SM…` sid). */
  providerMessageId: string;
}

export const TWILIO_ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const TWILIO_MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
export const DEFAULT_TWILIO_BASE_URL = 'https://api.twilio.com';
