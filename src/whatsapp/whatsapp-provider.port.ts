import type {
  CreatedTemplate,
  DownloadedMedia,
  LineCredentials,
  OutgoingFile,
  OutgoingMessage,
  ProviderNumber,
  TemplateDefinition,
  TemplateState,
  WebhookEvent,
} from './whatsapp.types.js';

/**
 * One WhatsApp provider. Stateless and without database access: everything it needs arrives as arguments, and
 * failures are thrown as ProviderError.
 */
export interface WhatsappProvider {
  /** Sends a message to `to` (E.164) and returns the provider's message id (wamid). */
  send(line: LineCredentials, to: string, message: OutgoingMessage): Promise<{ providerMessageId: string }>;
  /** Uploads a file to the provider's media store, then sends it to `to` (E.164) by the media id it answered. */
  sendFile(line: LineCredentials, to: string, file: OutgoingFile): Promise<{ providerMessageId: string }>;
  createTemplate(line: LineCredentials, template: TemplateDefinition): Promise<CreatedTemplate>;
  getTemplate(line: LineCredentials, providerTemplateId: string): Promise<TemplateState>;
  /** A template the provider already has under this name and language, or null (finds a creation whose answer was lost). */
  findTemplate(line: LineCredentials, name: string, language: string): Promise<(TemplateState & { providerTemplateId: string }) | null>;
  downloadMedia(line: LineCredentials, mediaId: string): Promise<DownloadedMedia>;
  /**
   * The number these credentials serve, read from the provider with them (proof that whoever registers the line
   * holds them); null when the provider has nothing to read. Fails with ProviderError like any call.
   */
  describeNumber(line: LineCredentials): Promise<ProviderNumber | null>;
  /** Checks a webhook call's signature header against the raw body. */
  verifySignature(line: LineCredentials, rawBody: Buffer, signatureHeader: string | undefined): boolean;
  /** Normalised events of a webhook body (Cloud API envelope). Never throws: unknown parts become `ignored` events. */
  parseWebhook(body: unknown): WebhookEvent[];
}
