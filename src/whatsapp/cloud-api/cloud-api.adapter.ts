import { Injectable } from '@nestjs/common';
import { OutgoingHttp } from '../../common/http/outgoing-http.js';
import { AppConfig } from '../../config/app-config.js';
import { binaryRequest, fileMessage, graphRequest, uploadMedia, verifyHubSignature } from '../http.js';
import { ProviderError } from '../provider-error.js';
import type { WhatsappProvider } from '../whatsapp-provider.port.js';
import type {
  CreatedTemplate,
  DownloadedMedia,
  LineCredentials,
  OutgoingFile,
  OutgoingMessage,
  ProviderNumber,
  TemplateDefinition,
  TemplateState,
  TemplateStatus,
  WebhookEvent,
} from '../whatsapp.types.js';
import { rejectionReason, toGraphMessage, toGraphTemplate } from './graph-payloads.js';
import { parseCloudWebhook } from './webhook-parser.js';
import { trimTrailing } from '../../common/text/trim.js';

/** Meta's WhatsApp Cloud API (Graph API), bearer token per line. */
@Injectable()
export class CloudApiAdapter implements WhatsappProvider {
  private readonly base: string;
  private readonly mediaMaxBytes: number;

  constructor(
    config: AppConfig,
    private readonly http: OutgoingHttp,
  ) {
    this.base = `${trimTrailing(config.GRAPH_API_BASE_URL, '/')}/${config.GRAPH_API_VERSION}`;
    this.mediaMaxBytes = config.MEDIA_MAX_BYTES;
  }

  async send(line: LineCredentials, to: string, message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const res = await graphRequest<{ messages?: Array<{ id: string }> }>(this.http, `${this.base}/${required(line.phoneNumberId, 'phone_number_id')}/messages`, {
      method: 'POST',
      headers: this.auth(line),
      body: toGraphMessage(to, message),
    });
    const id = res?.messages?.[0]?.id;
    if (!id) throw new ProviderError('TRANSIENT', true, 'Graph API answered without a message id');
    return { providerMessageId: id };
  }

  async sendFile(line: LineCredentials, to: string, file: OutgoingFile): Promise<{ providerMessageId: string }> {
    const mediaId = await uploadMedia(this.http, `${this.base}/${required(line.phoneNumberId, 'phone_number_id')}/media`, { headers: this.auth(line), guarded: false }, file);
    return this.send(line, to, fileMessage(file, mediaId));
  }

  async createTemplate(line: LineCredentials, template: TemplateDefinition): Promise<CreatedTemplate> {
    const res = await graphRequest<{ id: string; status?: string }>(this.http, `${this.base}/${required(line.wabaId, 'waba_id')}/message_templates`, {
      method: 'POST',
      headers: this.auth(line),
      body: toGraphTemplate(template),
    });
    return { providerTemplateId: String(res.id), status: (res.status?.toUpperCase() as TemplateStatus) ?? 'PENDING' };
  }

  async getTemplate(line: LineCredentials, providerTemplateId: string): Promise<TemplateState> {
    const res = await graphRequest<{ status: string; rejected_reason?: string }>(
      this.http,
      `${this.base}/${encodeURIComponent(providerTemplateId)}?fields=status,rejected_reason`,
      { headers: this.auth(line) },
    );
    return { status: res.status.toUpperCase() as TemplateStatus, reason: rejectionReason(res.rejected_reason) };
  }

  async findTemplate(line: LineCredentials, name: string, language: string): Promise<(TemplateState & { providerTemplateId: string }) | null> {
    const res = await graphRequest<{ data?: Array<{ id: string; language?: string; status: string; rejected_reason?: string }> }>(
      this.http,
      `${this.base}/${required(line.wabaId, 'waba_id')}/message_templates?name=${encodeURIComponent(name)}&fields=id,name,language,status,rejected_reason`,
      { headers: this.auth(line) },
    );
    const t = res.data?.find((x) => !x.language || x.language === language);
    return t ? { providerTemplateId: String(t.id), status: t.status.toUpperCase() as TemplateStatus, reason: rejectionReason(t.rejected_reason) } : null;
  }

  async downloadMedia(line: LineCredentials, mediaId: string): Promise<DownloadedMedia> {
    const meta = await graphRequest<{ url: string; mime_type?: string }>(this.http, `${this.base}/${encodeURIComponent(mediaId)}`, { headers: this.auth(line) });
    // The file URL is in Meta's answer, yet it is fetched like any outside URL: checked at every redirect hop.
    const file = await binaryRequest(this.http, meta.url, this.auth(line), this.mediaMaxBytes);
    return { data: file.data, mimeType: meta.mime_type ?? file.mimeType };
  }

  /** Graph's phone number node (GET /{phone_number_id}), read with the line's own access token. */
  async describeNumber(line: LineCredentials): Promise<ProviderNumber> {
    const id = required(line.phoneNumberId, 'phone_number_id');
    const res = await graphRequest<{ id?: string; display_phone_number?: string; verified_name?: string }>(
      this.http,
      `${this.base}/${encodeURIComponent(id)}?fields=id,display_phone_number,verified_name`,
      { headers: this.auth(line) },
    );
    if (typeof res?.display_phone_number !== 'string') throw new ProviderError('TRANSIENT', true, 'Graph API answered without display_phone_number');
    return { id: String(res.id ?? id), displayPhoneNumber: res.display_phone_number, verifiedName: res.verified_name };
  }

  verifySignature(line: LineCredentials, rawBody: Buffer, signatureHeader: string | undefined): boolean {
    return verifyHubSignature(line.appSecret, rawBody, signatureHeader);
  }

  parseWebhook(body: unknown): WebhookEvent[] {
    return parseCloudWebhook(body);
  }

  private auth(line: LineCredentials): Record<string, string> {
    return { authorization: `Bearer ${required(line.accessToken, 'access_token')}` };
  }
}

export function required<T>(value: T | null | undefined, name: string): T {
  if (value === null || value === undefined || value === '') throw new ProviderError('AUTH', false, `The line has no ${name}`);
  return value;
}
