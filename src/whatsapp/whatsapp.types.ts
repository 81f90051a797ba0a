/** What a provider needs to act for one WhatsApp line. Built from the line row by the caller; adapters never read the database. */
export interface LineCredentials {
  lineId: string;
  provider: 'sandbox' | 'cloud_api' | 'bsp';
  /** E.164 of the business number. */
  phoneNumber: string;
  phoneNumberId?: string | null;
  wabaId?: string | null;
  accessToken?: string;
  appSecret?: string;
  apiKey?: string;
  baseUrl?: string | null;
}

/** The business number a provider serves for a line's credentials, as the provider reports it. */
export interface ProviderNumber {
  /** The provider's id of the number (Cloud API phone_number_id). */
  id: string;
  /** As the provider shows it (Meta formats it: `+57 300 1230000`). */
  displayPhoneNumber: string;
  verifiedName?: string;
}

export interface ReplyButton {
  id: string;
  title: string;
}

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

export type MediaType = 'image' | 'video' | 'document';

/** Every kind of message the service sends. */
export type OutgoingMessage =
  | { kind: 'text'; body: string; previewUrl?: boolean }
  | { kind: 'buttons'; body: string; buttons: ReplyButton[]; header?: string; footer?: string }
  | { kind: 'list'; body: string; buttonText: string; rows: ListRow[]; header?: string; footer?: string }
  | { kind: 'media'; mediaType: MediaType; link?: string; mediaId?: string; caption?: string; filename?: string }
  | { kind: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  /**
   * A file the service stores (media_files id), sent as a document or image. The send queue reads its bytes at send
   * time and hands them to the provider's sendFile: adapters' `send` never sees this kind.
   */
  | { kind: 'file'; fileId: string; mediaType: 'document' | 'image'; caption?: string; filename?: string }
  | {
      kind: 'template';
      name: string;
      language: string;
      bodyParams?: string[];
      header?: { type: MediaType; link: string } | { type: 'location'; latitude: number; longitude: number; name?: string; address?: string };
      /** Payload of each quick-reply button, in button order. */
      buttonPayloads?: string[];
      /**
       * AUTHENTICATION templates: the one-time code, sealed with the SecretBox so the queued message row never holds
       * it in clear. Opened only when the payload is built; it fills the body parameter and the copy-code button's URL
       * parameter (`bodyParams` is then left out).
       */
      authCode?: { sealed: string };
    };

export type TemplateCategory = 'UTILITY' | 'MARKETING' | 'AUTHENTICATION';
export const TEMPLATE_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

/** Longest code an authentication template carries (Meta's limit for the one-time password). */
export const AUTH_CODE_MAX_CHARS = 15;
/** Range Meta accepts for an authentication template's `code_expiration_minutes`. */
export const CODE_EXPIRATION_MINUTES = { min: 1, max: 90 } as const;
/** Longest copy-code button label Meta accepts. */
export const COPY_CODE_BUTTON_MAX_CHARS = 25;

/**
 * What an AUTHENTICATION template may choose. Meta fixes its text (`<code> is your verification code.`, translated
 * into the template's language) and its one button (copy code): nothing else of it is ours.
 */
export interface AuthenticationOptions {
  /** 1-90: Meta adds the footer "This code expires in N minutes." */
  codeExpirationMinutes?: number;
  /** Meta adds "For your security, do not share this code." */
  addSecurityRecommendation?: boolean;
  /** The copy-code button's label (Meta's default, "Copy code", when absent). */
  copyCodeButtonText?: string;
}

/** A template with text of our own: body with {{1}}..{{n}}, optional media/location header and quick replies. */
export interface TextTemplateDefinition {
  /** Lowercase letters, digits and underscores. */
  name: string;
  language: string;
  category: TemplateCategory;
  /** Body text with {{1}}..{{n}} parameters. */
  body: string;
  bodyExamples: string[];
  header?: { format: 'IMAGE' | 'VIDEO' | 'DOCUMENT'; exampleUrl: string } | { format: 'LOCATION' };
  quickReplies?: string[];
  authentication?: undefined;
}

/** An AUTHENTICATION template with Meta's preset text and a copy-code button (`otp_type: COPY_CODE`). */
export interface AuthenticationTemplateDefinition {
  name: string;
  language: string;
  category: 'AUTHENTICATION';
  authentication: AuthenticationOptions;
}

export type TemplateDefinition = TextTemplateDefinition | AuthenticationTemplateDefinition;

export interface CreatedTemplate {
  providerTemplateId: string;
  status: TemplateStatus;
}

export interface TemplateState {
  status: TemplateStatus;
  reason?: string | null;
}

/** A file to send with its bytes: uploaded to the provider, then sent by the media id it answers. */
export interface OutgoingFile {
  bytes: Buffer;
  mimeType: string;
  kind: 'document' | 'image';
  /** Shown for documents. */
  filename?: string;
  caption?: string;
}

export interface DownloadedMedia {
  data: Buffer;
  mimeType: string;
}

/** A user's message, normalised from any provider's webhook. */
export interface InboundMessageEvent {
  kind: 'message';
  /** Provider's routing key of the business line (Cloud API phone_number_id). */
  phoneNumberId: string | null;
  wamid: string;
  /** The user's number, digits only, as WhatsApp sends it. */
  from: string;
  profileName?: string;
  timestamp: Date;
  type: 'text' | 'button' | 'interactive' | 'image' | 'document' | 'video' | 'audio' | 'location' | 'other';
  text?: string;
  /** Id of the tapped reply button, list row or template quick reply (payload). */
  replyId?: string;
  replyTitle?: string;
  media?: { id?: string; url?: string; mimeType?: string; sha256?: string; filename?: string; caption?: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  /** The message this one replies to. */
  contextWamid?: string;
  /** The type as the provider named it (sticker, reaction, …) when `type` is `other`. */
  providerType?: string;
  /** A text of it was longer than MAX_INBOUND_TEXT characters and was cut there. */
  truncated?: true;
}

export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusUpdateEvent {
  kind: 'status';
  phoneNumberId: string | null;
  wamid: string;
  recipient: string;
  status: DeliveryStatus;
  timestamp: Date;
  error?: { code: string; title: string; details?: string };
}

export interface TemplateStatusEvent {
  kind: 'template_status';
  wabaId: string;
  providerTemplateId: string;
  name: string;
  language: string;
  status: TemplateStatus | string;
  reason?: string | null;
}

/** A user stopped (or resumed) marketing messages through WhatsApp's own controls. */
export interface OptOutEvent {
  kind: 'opt_out' | 'opt_in';
  phoneNumberId: string | null;
  from: string;
  timestamp: Date;
  detail: string;
}

/** Accepted but not acted on (reactions, system messages, …). */
export interface IgnoredEvent {
  kind: 'ignored';
  phoneNumberId: string | null;
  reason: string;
}

export type WebhookEvent = InboundMessageEvent | StatusUpdateEvent | TemplateStatusEvent | OptOutEvent | IgnoredEvent;
