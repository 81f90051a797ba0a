import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ulid } from 'ulid';
import { Clock } from '../../common/clock/clock.js';
import { AppError, ErrorCode } from '../../common/errors/app-error.js';
import { digits, toE164 } from '../../common/phone/phone.js';
import type { WhatsappLine } from '../tenants/entities/whatsapp-line.entity.js';
import { LinesService } from '../tenants/lines.service.js';
import { AppConfig } from '../../config/app-config.js';
import { SendQueueService, type SentMessage } from '../messages/send-queue.service.js';
import { MessageDto } from '../messages/dto/message.dto.js';
import type { Message } from '../messages/entities/message.entity.js';
import { MessagesService } from '../messages/messages.service.js';
import { TemplatesService } from '../templates/templates.service.js';
import { authenticationPreset, MASKED_AUTH_CODE, openAuthCode } from '../../whatsapp/auth-code.js';
import type { OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import { SandboxInboundAcceptedDto, SandboxInboundDto } from './dto/sandbox.dto.js';
import { routingKeys } from '../../whatsapp/cloud-api/webhook-parser.js';
import { userKeyOf, WebhookInboxService } from './webhook-inbox.service.js';

/**
 * Simulated users for sandbox lines: an injected message is written to the inbox as a Cloud API envelope and goes
 * through exactly the path a real webhook takes. So do the statuses of what the bot sends: `delivered`
 * SANDBOX_STATUS_DELAY_MS after the send and `read` as long again, as status webhooks stored with the send.
 */
@Injectable()
export class SandboxService implements OnModuleInit {
  constructor(
    private readonly lines: LinesService,
    private readonly inbox: WebhookInboxService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly sendQueue: SendQueueService,
    private readonly messages: MessagesService,
    private readonly templates: TemplatesService,
  ) {}

  onModuleInit(): void {
    if (this.config.SANDBOX_STATUS_DELAY_MS === 0) return;
    this.sendQueue.onSent({
      wants: async (lineId) => (await this.lines.findById(lineId))?.provider === 'sandbox',
      onSent: (m, sent) => this.scheduleStatuses(m, sent),
    });
  }

  /** Stores `delivered` and `read` for each send, claimable only once due (read after delivered: one key per message). */
  private async scheduleStatuses(m: EntityManager, sent: SentMessage[]): Promise<void> {
    const delay = this.config.SANDBOX_STATUS_DELAY_MS;
    const now = this.clock.now().getTime();
    const lines = new Map<string, WhatsappLine | null>();
    for (const s of sent) if (!lines.has(s.lineId)) lines.set(s.lineId, await this.lines.findById(s.lineId));
    await this.inbox.storeIn(
      m,
      sent.flatMap((s) => {
        const line = lines.get(s.lineId);
        if (!line) return [];
        return (['delivered', 'read'] as const).map((status, i) => {
          const at = now + delay * (i + 1);
          const envelope = sandboxEnvelope(line, {
            statuses: [{ id: s.providerMessageId, status, timestamp: String(Math.floor(at / 1000)), recipient_id: digits(s.phone) }],
          });
          return { source: 'sandbox' as const, lineId: line.id, raw: JSON.stringify(envelope), userKey: `${line.id}:status:${s.messageId}`, notBefore: new Date(at) };
        });
      }),
    );
  }

  async sandboxLine(tenantId: string, phone: string): Promise<WhatsappLine> {
    const line = await this.lines.getByPhone(tenantId, phone);
    if (line.provider !== 'sandbox') throw AppError.validation('waba_phone_number', 'waba_phone_number must be one of your sandbox lines');
    return line;
  }

  /**
   * A tap as WhatsApp reports it: the option of the last prompt sent to the user with that id gives its title (and
   * the shape: a list row, a reply button, or a template's quick-reply button); a given `reply_title` wins.
   */
  private async reply(line: WhatsappLine, phone: string, replyId: string, givenTitle: string | undefined): Promise<Record<string, unknown>> {
    const prompt = await this.messages.lastPrompt(line.id, phone);
    const content = prompt?.content as OutgoingMessage | undefined;
    if (content?.kind === 'template') {
      const index = (content.buttonPayloads ?? []).indexOf(replyId);
      const [template] = index >= 0 ? await this.templates.byNames(line.id, [content.name]) : [];
      const title = givenTitle ?? template?.quickReplies[index];
      if (title !== undefined) return { type: 'button', button: { payload: replyId, text: title } };
    }
    if (content?.kind === 'list') {
      const row = content.rows.find((r) => r.id === replyId);
      if (row)
        return {
          type: 'interactive',
          interactive: { type: 'list_reply', list_reply: { id: replyId, title: givenTitle ?? row.title, ...(row.description ? { description: row.description } : {}) } },
        };
    }
    const button = content?.kind === 'buttons' ? content.buttons.find((b) => b.id === replyId) : undefined;
    return { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: replyId, title: givenTitle ?? button?.title ?? replyId } } };
  }

  /** The transcript as the user's phone shows it: templates rendered with their parameters, header and buttons. */
  async transcript(line: WhatsappLine, items: Message[], media: Parameters<typeof MessageDto.from>[1]): Promise<MessageDto[]> {
    const sentTemplates = items.flatMap((m) =>
      m.direction === 'outbound' && (m.content as OutgoingMessage).kind === 'template' ? [(m.content as Extract<OutgoingMessage, { kind: 'template' }>).name] : [],
    );
    const templates = new Map((await this.templates.byNames(line.id, sentTemplates)).map((t) => [t.name, t]));
    return items.map((m) => {
      const dto = MessageDto.from(m, media);
      const content = m.content as OutgoingMessage;
      if (m.direction !== 'outbound' || content.kind !== 'template') return dto;
      const template = templates.get(content.name);
      if (!template) return dto;
      if (template.authentication && content.authCode) {
        // What the phone shows: Meta's text with the code, and the copy-code button that copies it. The sandbox user
        // reads the code here; `content` itself keeps it masked like every other listing.
        // A code sealed under a key since dropped (rotation re-seals only credentials) shows masked.
        const code = openedOrMasked(content.authCode);
        const preset = authenticationPreset(template.language, template.authentication);
        const rendered = {
          body: preset.body.replace('{{1}}', code),
          ...(preset.footer ? { footer: preset.footer } : {}),
          buttons: [{ type: 'copy_code', title: preset.buttonText, copy_code: code }],
        };
        return { ...dto, content: { ...dto.content, rendered } };
      }
      const params = content.bodyParams ?? [];
      const body = template.body.replace(/\{\{(\d+)\}\}/g, (all, n: string) => params[Number(n) - 1] ?? all);
      const rendered = {
        ...(content.header ? { header: content.header } : {}),
        body,
        buttons: template.quickReplies.map((title, i) => ({ id: content.buttonPayloads?.[i] ?? title, title })),
      };
      return { ...dto, content: { ...dto.content, rendered } };
    });
  }

  async inject(tenantId: string, dto: SandboxInboundDto): Promise<SandboxInboundAcceptedDto> {
    const given = (['text', 'reply_id', 'media_type'] as const).filter((f) => dto[f] !== undefined);
    if (given.length !== 1) {
      throw new AppError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, 'Give exactly one of text, reply_id, media_type', [
        { field: given[1] ?? 'text', messages: ['Give exactly one of text, reply_id, media_type'] },
      ]);
    }
    const line = await this.sandboxLine(tenantId, dto.waba_phone_number);
    const from = digits(toE164(dto.from)!);
    const wamid = `wamid.SANDBOXIN${ulid()}`;
    const message: Record<string, unknown> = { from, id: wamid, timestamp: String(Math.floor(this.clock.now().getTime() / 1000)) };
    if (dto.text !== undefined) Object.assign(message, { type: 'text', text: { body: dto.text } });
    else if (dto.reply_id !== undefined) {
      Object.assign(message, await this.reply(line, toE164(dto.from)!, dto.reply_id, dto.reply_title));
    } else {
      const kind = dto.media_type!;
      const media = {
        id: `sandbox-media-${kind}-${ulid()}`,
        mime_type: kind === 'document' ? 'application/pdf' : 'image/png',
        caption: dto.caption,
        filename: kind === 'document' ? (dto.filename ?? 'document.pdf') : undefined,
      };
      Object.assign(message, { type: kind, [kind]: media });
    }
    const envelope = sandboxEnvelope(line, { contacts: [{ profile: { name: 'Sandbox user' }, wa_id: from }], messages: [message] });
    const eventId = await this.inbox.store('sandbox', line.id, JSON.stringify(envelope), 'pending', userKeyOf(line.id, routingKeys(envelope).senders));
    return { wamid, event_id: eventId };
  }
}

function openedOrMasked(authCode: { sealed: string }): string {
  try {
    return openAuthCode(authCode);
  } catch {
    return MASKED_AUTH_CODE;
  }
}

/** A Cloud API `messages` change for a sandbox line (the line's id stands for WABA and phone_number_id). */
function sandboxEnvelope(line: WhatsappLine, value: Record<string, unknown>) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: line.id,
        changes: [
          {
            field: 'messages',
            value: { messaging_product: 'whatsapp', metadata: { display_phone_number: digits(line.phoneNumber), phone_number_id: line.id }, ...value },
          },
        ],
      },
    ],
  };
}
