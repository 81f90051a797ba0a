import { Injectable } from '@nestjs/common';
import { OutgoingHttp } from '../../common/http/outgoing-http.js';
import { AppConfig } from '../../config/app-config.js';
import { required } from '../cloud-api/cloud-api.adapter.js';
import { rejectionReason, toGraphMessage, toGraphTemplate } from '../cloud-api/graph-payloads.js';
import { parseCloudWebhook } from '../cloud-api/webhook-parser.js';
import { binaryRequest, fileMessage, graphRequest, uploadMedia, verifyHubSignature } from '../http.js';
import { ProviderError } from '../provider-error.js';
import type { WhatsappProvider } from '../whatsapp-provider.port.js';
import type {
  CreatedTemplate,
  DownloadedMedia,
  LineCredentials,
  OutgoingFile,
  OutgoingMessage,
  TemplateDefinition,
  TemplateState,
  TemplateStatus,
  WebhookEvent,
} from '../whatsapp.types.js';
import { trimTrailing } from '../../common/text/trim.js';

/**
 * A 360dialog-style BSP: Cloud API message JSON at `{base_url}/messages`, templates at `{base_url}/v1/configs/templates`,
 * header `D360-API-KEY`; webhooks arrive in the Cloud API envelope, signed only when the line has an app secret. The base
 * URL is the tenant's: every call is checked and connected through pinned resolution (OutgoingHttp's guarded agent).
 */
@Injectable()
export class BspAdapter implements WhatsappProvider {
  private readonly mediaMaxBytes: number;

  constructor(
    config: AppConfig,
    private readonly http: OutgoingHttp,
  ) {
    this.mediaMaxBytes = config.MEDIA_MAX_BYTES;
  }

  async send(line: LineCredentials, to: string, message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const res = await graphRequest<{ messages?: Array<{ id: string }> }>(this.http, `${this.base(line)}/messages`, {
      method: 'POST',
      headers: this.auth(line),
      guarded: true,
      body: toGraphMessage(to, message),
    });
    const id = res?.messages?.[0]?.id;
    if (!id) throw new ProviderError('TRANSIENT', true, 'BSP answered without a message id');
    return { providerMessageId: id };
  }

  /** 360dialog's `POST {base_url}/media` takes the Cloud API's multipart upload. */
  async sendFile(line: LineCredentials, to: string, file: OutgoingFile): Promise<{ providerMessageId: string }> {
    const mediaId = await uploadMedia(this.http, `${this.base(line)}/media`, { headers: this.auth(line), guarded: true }, file);
    return this.send(line, to, fileMessage(file, mediaId));
  }

  async createTemplate(line: LineCredentials, template: TemplateDefinition): Promise<CreatedTemplate> {
    const res = await graphRequest<{ id: string; status?: string }>(this.http, `${this.base(line)}/v1/configs/templates`, {
      method: 'POST',
      headers: this.auth(line),
      guarded: true,
      body: toGraphTemplate(template),
    });
    return { providerTemplateId: String(res.id), status: normaliseStatus(res.status) };
  }

  async getTemplate(line: LineCredentials, providerTemplateId: string): Promise<TemplateState> {
    const res = await graphRequest<{ waba_templates?: Array<{ id: string; status: string; rejected_reason?: string }> }>(this.http, `${this.base(line)}/v1/configs/templates`, {
      headers: this.auth(line),
      guarded: true,
    });
    const t = res.waba_templates?.find((x) => String(x.id) === providerTemplateId);
    if (!t) throw new ProviderError('TEMPLATE_PROBLEM', false, `Template ${providerTemplateId} not found at the BSP`);
    return { status: normaliseStatus(t.status), reason: rejectionReason(t.rejected_reason) };
  }

  async findTemplate(line: LineCredentials, name: string, language: string): Promise<(TemplateState & { providerTemplateId: string }) | null> {
    const res = await graphRequest<{ waba_templates?: Array<{ id: string; name: string; language?: string; status: string; rejected_reason?: string }> }>(
      this.http,
      `${this.base(line)}/v1/configs/templates`,
      { headers: this.auth(line), guarded: true },
    );
    const t = res.waba_templates?.find((x) => x.name === name && (!x.language || x.language === language));
    return t ? { providerTemplateId: String(t.id), status: normaliseStatus(t.status), reason: rejectionReason(t.rejected_reason) } : null;
  }

  async downloadMedia(line: LineCredentials, mediaId: string): Promise<DownloadedMedia> {
    const meta = await graphRequest<{ url: string; mime_type?: string }>(this.http, `${this.base(line)}/${encodeURIComponent(mediaId)}`, {
      headers: this.auth(line),
      guarded: true,
    });
    const file = await binaryRequest(this.http, meta.url, this.auth(line), this.mediaMaxBytes);
    return { data: file.data, mimeType: meta.mime_type ?? file.mimeType };
  }

  async describeNumber(): Promise<null> {
    // A 360dialog-style API key names its number itself; there is no number node to read. A BSP line claims its
    // number only within its tenant.
    return null;
  }

  verifySignature(line: LineCredentials, rawBody: Buffer, signatureHeader: string | undefined): boolean {
    // A line without an app secret is authenticated by its webhook token instead (WebhooksService).
    return verifyHubSignature(line.appSecret, rawBody, signatureHeader);
  }

  parseWebhook(body: unknown): WebhookEvent[] {
    return parseCloudWebhook(body);
  }

  private base(line: LineCredentials): string {
    return trimTrailing(required(line.baseUrl, 'base_url'), '/');
  }

  private auth(line: LineCredentials): Record<string, string> {
    return { 'D360-API-KEY': required(line.apiKey, 'api_key') };
  }
}

function normaliseStatus(status: string | undefined): TemplateStatus {
  const s = (status ?? 'PENDING').toUpperCase();
  return (['APPROVED', 'REJECTED', 'PAUSED', 'DISABLED'].includes(s) ? s : 'PENDING') as TemplateStatus;
}
