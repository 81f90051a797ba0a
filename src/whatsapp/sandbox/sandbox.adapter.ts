import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { Clock } from '../../common/clock/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { parseCloudWebhook } from '../cloud-api/webhook-parser.js';
import { openAuthCode } from '../auth-code.js';
import { ProviderError } from '../provider-error.js';
import type { WhatsappProvider } from '../whatsapp-provider.port.js';
import type { CreatedTemplate, DownloadedMedia, LineCredentials, OutgoingFile, OutgoingMessage, TemplateDefinition, TemplateState, WebhookEvent } from '../whatsapp.types.js';

// A 1×1 PNG and a one-page PDF stand in for media users "send" in the sandbox.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/**
 * No network: sends succeed with a generated wamid (the messages log is the record of what was sent), templates are
 * approved SANDBOX_APPROVAL_DELAY_SECONDS after creation (the approval time is encoded in the template id, so the
 * adapter keeps no state), and inbound media are generated placeholders.
 */
@Injectable()
export class SandboxAdapter implements WhatsappProvider {
  constructor(
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async send(_line: LineCredentials, _to: string, message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    // A one-time code that would not open or not fit fails here as it would at Meta (the transcript shows it opened).
    if (message.kind === 'template' && message.authCode) openAuthCode(message.authCode);
    return { providerMessageId: `wamid.SANDBOX${randomBytes(12).toString('hex').toUpperCase()}` };
  }

  /** Nothing to upload: the messages log keeps the file's id, and the sandbox transcript links its content. */
  async sendFile(_line: LineCredentials, _to: string, file: OutgoingFile): Promise<{ providerMessageId: string }> {
    if (file.bytes.length === 0) throw new ProviderError('INVALID_REQUEST', false, 'The file is empty');
    return this.send(_line, _to, { kind: 'text', body: '' });
  }

  async createTemplate(_line: LineCredentials, _template: TemplateDefinition): Promise<CreatedTemplate> {
    const approveAt = this.clock.now().getTime() + this.config.SANDBOX_APPROVAL_DELAY_SECONDS * 1000;
    const id = `sbx_${approveAt}_${randomBytes(4).toString('hex')}`;
    return { providerTemplateId: id, status: this.config.SANDBOX_APPROVAL_DELAY_SECONDS === 0 ? 'APPROVED' : 'PENDING' };
  }

  async getTemplate(_line: LineCredentials, providerTemplateId: string): Promise<TemplateState> {
    const approveAt = Number(/^sbx_(\d+)_/.exec(providerTemplateId)?.[1]);
    if (!approveAt) throw new ProviderError('TEMPLATE_PROBLEM', false, `Unknown sandbox template ${providerTemplateId}`);
    return { status: this.clock.now().getTime() >= approveAt ? 'APPROVED' : 'PENDING', reason: null };
  }

  async findTemplate(): Promise<null> {
    // Sandbox creations cannot get lost: nothing to find.
    return null;
  }

  async downloadMedia(_line: LineCredentials, mediaId: string): Promise<DownloadedMedia> {
    return mediaId.includes('document') ? { data: PDF, mimeType: 'application/pdf' } : { data: PNG, mimeType: 'image/png' };
  }

  async describeNumber(): Promise<null> {
    // Nothing real to read: a sandbox line claims its number only within its tenant.
    return null;
  }

  verifySignature(): boolean {
    // Sandbox events come in through the authenticated sandbox API, never through the public webhook.
    return false;
  }

  parseWebhook(body: unknown): WebhookEvent[] {
    return parseCloudWebhook(body);
  }

  static placeholderSha256(kind: 'image' | 'document'): string {
    return createHash('sha256')
      .update(kind === 'document' ? PDF : PNG)
      .digest('hex');
  }
}
