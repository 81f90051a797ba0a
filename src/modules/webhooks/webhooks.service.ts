import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { routingKeys } from '../../whatsapp/cloud-api/webhook-parser.js';
import { WhatsappProviders } from '../../whatsapp/whatsapp-providers.js';
import { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { LinesService, lineCredentials } from '../tenants/lines.service.js';
import { userKeyOf, WebhookInboxService } from './webhook-inbox.service.js';

/** Webhook ingress: verify, store, answer. Processing happens afterwards, from the stored rows. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly inbox: WebhookInboxService,
    private readonly lines: LinesService,
    private readonly providers: WhatsappProviders,
  ) {}

  async handshake(mode: unknown, token: unknown, challenge: unknown): Promise<string> {
    const ok =
      mode === 'subscribe' &&
      typeof token === 'string' &&
      token.length > 0 &&
      typeof challenge === 'string' &&
      (await this.lines.hasVerifyToken(token));
    if (!ok) throw new AppError(HttpStatus.FORBIDDEN, ErrorCode.FORBIDDEN, 'hub.verify_token does not match any line');
    return challenge as string;
  }

  async receiveCloud(raw: Buffer | undefined, body: unknown, signature: string | undefined): Promise<string> {
    const rawBody = this.requireJson(raw, body);
    const keys = routingKeys(body);
    const candidates: WhatsappLine[] = [];
    for (const id of keys.phoneNumberIds) {
      const line = await this.lines.findByPhoneNumberId(id);
      if (line) candidates.push(line);
    }
    for (const id of keys.wabaIds) candidates.push(...(await this.lines.findByWabaId(id)));
    const signed = candidates.filter((l) => l.provider !== 'sandbox');
    if (signed.length === 0) {
      // Kept (not lost) for an operator to look at, but never processed: nobody could verify it.
      this.logger.warn({ keys }, 'webhook for an unknown line stored as unknown_line');
      return this.inbox.store('cloud_api', null, rawBody.toString('utf8'), 'unknown_line');
    }
    const verified = signed.find((l) => this.providers.for(l).verifySignature(lineCredentials(l), rawBody, signature));
    if (!verified) throw new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, 'X-Hub-Signature-256 is missing or does not match');
    return this.inbox.store('cloud_api', verified.id, rawBody.toString('utf8'), 'pending', userKeyOf(verified.id, keys.senders));
  }

  async receiveBsp(lineId: string, raw: Buffer | undefined, body: unknown, signature: string | undefined): Promise<string> {
    const rawBody = this.requireJson(raw, body);
    const line = await this.lines.findById(lineId);
    if (!line || line.provider !== 'bsp') throw AppError.notFound('BSP line', lineId);
    if (!this.providers.for(line).verifySignature(lineCredentials(line), rawBody, signature)) {
      throw new AppError(HttpStatus.UNAUTHORIZED, ErrorCode.INVALID_SIGNATURE, 'X-Hub-Signature-256 is missing or does not match');
    }
    return this.inbox.store('bsp', line.id, rawBody.toString('utf8'), 'pending', userKeyOf(line.id, routingKeys(body).senders));
  }

  private requireJson(raw: Buffer | undefined, body: unknown): Buffer {
    if (!raw || raw.length === 0 || typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'Expected a JSON object body');
    }
    return raw;
  }
}
