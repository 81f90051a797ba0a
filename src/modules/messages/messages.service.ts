import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { queryReturning } from '../../database/sql.js';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { toE164 } from '../../common/phone/phone.js';
import type { InboundMessageEvent, OutgoingMessage, StatusUpdateEvent } from '../../whatsapp/whatsapp.types.js';
import { MediaFile } from './entities/media-file.entity.js';
import { Message, MessageDirection, MessageStatus } from './entities/message.entity.js';

export interface EnqueueInput {
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  message: OutgoingMessage;
  conversationId?: string | null;
}

export interface MessageFilters extends PageQueryDto {
  lineId?: string;
  phone?: string;
  status?: MessageStatus;
  direction?: MessageDirection;
}

@Injectable()
export class MessagesService {
  constructor(
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    @InjectRepository(MediaFile) private readonly media: Repository<MediaFile>,
    private readonly clock: Clock,
  ) {}

  /** Queues a message for sending, inside the caller's transaction: it goes out only if that transaction commits. */
  async enqueue(manager: EntityManager, input: EnqueueInput): Promise<Message> {
    const [message] = await this.enqueueMany(manager, [input]);
    return message;
  }

  /** Queues several messages with one multi-row INSERT, inside the caller's transaction (cron senders batch). */
  async enqueueMany(manager: EntityManager, inputs: EnqueueInput[]): Promise<Message[]> {
    if (inputs.length === 0) return [];
    const now = this.clock.now();
    const messages = inputs.map((input) =>
      manager.create(Message, {
        id: newId('MSG'),
        tenantId: input.tenantId,
        lineId: input.lineId,
        phone: input.phone,
        direction: 'outbound',
        type: input.message.kind,
        content: input.message,
        providerMessageId: null,
        status: 'queued',
        conversationId: input.conversationId ?? null,
        attempts: 0,
        nextAttemptAt: now,
        errorCode: null,
        errorTitle: null,
        createdAt: now,
        sentAt: null,
        deliveredAt: null,
        readAt: null,
        failedAt: null,
      }),
    );
    // 19 columns a row: stay well under PostgreSQL's 65,535 bind parameters per statement.
    for (let i = 0; i < messages.length; i += 1000) await manager.insert(Message, messages.slice(i, i + 1000));
    return messages;
  }

  /**
   * Records a user's message once: a repeated wamid (Meta delivers at least once) returns the first record with
   * `duplicate: true`. Media messages get a pending media file, downloaded by the media worker.
   */
  async recordInbound(
    manager: EntityManager,
    line: { id: string; tenantId: string },
    ev: InboundMessageEvent,
  ): Promise<{ message: Message; duplicate: boolean; mediaFileId: string | null }> {
    const now = this.clock.now();
    const content: Record<string, unknown> = {
      text: ev.text ?? null,
      reply_id: ev.replyId ?? null,
      reply_title: ev.replyTitle ?? null,
      media: ev.media ?? null,
      location: ev.location ?? null,
      context_wamid: ev.contextWamid ?? null,
      profile_name: ev.profileName ?? null,
      provider_type: ev.providerType ?? null,
      sent_at: ev.timestamp.toISOString(),
    };
    const id = newId('MSG');
    const phone = toE164(ev.from) ?? `+${ev.from}`;
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, provider_message_id, status, created_at)
       VALUES ($1, $2, $3, $4, 'inbound', $5, $6, $7, 'received', $8)
       ON CONFLICT (provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
       RETURNING id`,
      [id, line.tenantId, line.id, phone, ev.type, content, ev.wamid, now],
    );
    const duplicate = inserted.length === 0;
    const message = duplicate
      ? await manager.findOneByOrFail(Message, { providerMessageId: ev.wamid })
      : manager.create(Message, { id, tenantId: line.tenantId, lineId: line.id, phone, direction: 'inbound', type: ev.type, content, providerMessageId: ev.wamid, status: 'received', conversationId: null, attempts: 0, nextAttemptAt: null, errorCode: null, errorTitle: null, createdAt: now, sentAt: null, deliveredAt: null, readAt: null, failedAt: null });
    let mediaFileId: string | null = null;
    if (!duplicate && ev.media?.id && (ev.type === 'image' || ev.type === 'document' || ev.type === 'video' || ev.type === 'audio')) {
      mediaFileId = newId('MED');
      await manager.insert(MediaFile, {
        id: mediaFileId,
        tenantId: line.tenantId,
        messageId: message.id,
        lineId: line.id,
        providerMediaId: ev.media.id,
        status: 'pending',
        mimeType: ev.media.mimeType ?? null,
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      });
    }
    return { message, duplicate, mediaFileId };
  }

  /**
   * Applies a delivery status monotonically (sent < delivered < read; failed is terminal), whatever order the
   * webhooks arrive in; each status keeps its own timestamp. Returns null when no message has that wamid (yet);
   * `changed` when the message's status moved.
   */
  async applyStatus(manager: EntityManager, ev: StatusUpdateEvent): Promise<{ message: Message; changed: boolean } | null> {
    const rows = await queryReturning<{ id: string; changed: boolean }>(
      manager,
      `WITH old AS (SELECT id, status FROM messages WHERE provider_message_id = $1 AND direction = 'outbound' FOR UPDATE)
       UPDATE messages m SET
         status = CASE
           WHEN m.status = 'failed' THEN m.status
           WHEN $2 = 'failed' THEN 'failed'
           WHEN array_position(ARRAY['queued','sent','delivered','read'], $2) > array_position(ARRAY['queued','sent','delivered','read'], m.status) THEN $2
           ELSE m.status END,
         sent_at = CASE WHEN $2 = 'sent' THEN LEAST(COALESCE(m.sent_at, $3), $3) ELSE m.sent_at END,
         delivered_at = CASE WHEN $2 = 'delivered' THEN COALESCE(m.delivered_at, $3) ELSE m.delivered_at END,
         read_at = CASE WHEN $2 = 'read' THEN COALESCE(m.read_at, $3) ELSE m.read_at END,
         failed_at = CASE WHEN $2 = 'failed' THEN COALESCE(m.failed_at, $3) ELSE m.failed_at END,
         error_code = CASE WHEN $2 = 'failed' AND m.status <> 'failed' THEN $4 ELSE m.error_code END,
         error_title = CASE WHEN $2 = 'failed' AND m.status <> 'failed' THEN $5 ELSE m.error_title END
       FROM old WHERE m.id = old.id
       RETURNING m.id, m.status IS DISTINCT FROM old.status AS changed`,
      [ev.wamid, ev.status, ev.timestamp, ev.error?.code ?? null, ev.error ? [ev.error.title, ev.error.details].filter(Boolean).join(': ') : null],
    );
    return rows.length ? { message: await manager.findOneByOrFail(Message, { id: rows[0].id }), changed: rows[0].changed } : null;
  }

  async get(tenantId: string, id: string): Promise<Message> {
    const message = await this.messages.findOneBy({ id, tenantId });
    if (!message) throw AppError.notFound('Message', id);
    return message;
  }

  list(tenantId: string, f: MessageFilters) {
    const qb = this.messages.createQueryBuilder('m').where('m.tenant_id = :tenantId', { tenantId });
    if (f.lineId) qb.andWhere('m.line_id = :lineId', { lineId: f.lineId });
    if (f.phone) qb.andWhere('m.phone = :phone', { phone: f.phone });
    if (f.status) qb.andWhere('m.status = :status', { status: f.status });
    if (f.direction) qb.andWhere('m.direction = :direction', { direction: f.direction });
    return paginate(qb, f);
  }

  mediaOf(messageIds: string[]): Promise<MediaFile[]> {
    return messageIds.length ? this.media.createQueryBuilder('f').where('f.message_id IN (:...ids)', { ids: messageIds }).getMany() : Promise.resolve([]);
  }
}
