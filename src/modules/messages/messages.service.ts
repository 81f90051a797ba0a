import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { queryReturning } from '../../database/sql.js';
import { EntityManager, In, Repository } from 'typeorm';
import { WriteBehind } from '../../database/write-behind.js';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { PageQueryDto, paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import { userPhone } from '../../common/phone/phone.js';
import type { InboundMessageEvent, OutgoingMessage, StatusUpdateEvent } from '../../whatsapp/whatsapp.types.js';
import { sentFileId } from './dto/message.dto.js';
import { FilesService } from './files.service.js';
import { MediaFile } from './entities/media-file.entity.js';
import { MediaDownloaderService } from './media-downloader.service.js';
import { Message, MessageDirection, MessageStatus } from './entities/message.entity.js';

export interface EnqueueInput {
  tenantId: string;
  lineId: string;
  /** E.164. */
  phone: string;
  message: OutgoingMessage;
  conversationId?: string | null;
}

/** A message's delivery fields before anything happened to it. */
const NO_OUTCOME = { errorCode: null, errorTitle: null, sentAt: null, deliveredAt: null, readAt: null, failedAt: null };

export interface InboundLine {
  id: string;
  tenantId: string;
}

export interface RecordedInbound {
  message: Message;
  duplicate: boolean;
  mediaFileId: string | null;
}

export interface MessageFilters extends PageQueryDto {
  lineId?: string;
  phone?: string;
  status?: MessageStatus;
  direction?: MessageDirection;
}

/** A provider message id means something only on its line. */
const providerKey = (lineId: string, wamid: string) => `${lineId} ${wamid}`;

@Injectable()
export class MessagesService {
  constructor(
    @InjectRepository(Message) private readonly messages: Repository<Message>,
    @InjectRepository(MediaFile) private readonly media: Repository<MediaFile>,
    private readonly clock: Clock,
    private readonly downloader: MediaDownloaderService,
    private readonly files: FilesService,
  ) {}

  /** The WhatsApp profile name that the user's latest message on the line carried, or null. */
  async profileName(lineId: string, phone: string, manager: EntityManager = this.messages.manager): Promise<string | null> {
    const [row]: Array<{ name: string }> = await manager.query(
      `SELECT content->>'profile_name' AS name FROM messages
        WHERE line_id = $1 AND phone = $2 AND direction = 'inbound' AND content->>'profile_name' IS NOT NULL ORDER BY id DESC LIMIT 1`,
      [lineId, phone],
    );
    return row?.name ?? null;
  }

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
        createdAt: now,
        ...NO_OUTCOME,
      }),
    );
    await WriteBehind.insert(manager, Message, messages);
    return messages;
  }

  /**
   * Records users' messages with one INSERT, results in the order given. A message is recorded once per line: a wamid
   * repeated on its line (Meta delivers at least once, also twice in one batch) answers with the first record and
   * `duplicate: true`. The same wamid on another line is another message (a line cannot claim another's ids). Media
   * messages get a pending media file and its download job, in the caller's transaction.
   */
  /**
   * Empties the messages of a process (custody purge): their content becomes `{"purged": true}` and their media files
   * are deleted; ids, direction, type, status and times stay (the evidence chain names them). Returns how many.
   */
  async purgeConversation(m: EntityManager, processId: string): Promise<number> {
    const [rows] = (await m.query(`UPDATE messages SET content = '{"purged": true}'::jsonb WHERE conversation_id = $1 RETURNING id`, [processId])) as [
      Array<{ id: string }>,
      number,
    ];
    const ids = rows.map((r) => r.id);
    const media: Array<{ id: string }> = ids.length ? await m.query(`SELECT id FROM media_files WHERE message_id = ANY($1)`, [ids]) : [];
    await this.files.remove(
      m,
      media.map((f) => f.id),
    );
    return ids.length;
  }

  /**
   * A person's erasure: their messages of the tenant outside any process (a fallback, an opt-out keyword, a
   * notification) are blanked and their number masked, their media deleted; queued ones are left to be sent or fail.
   * Returns how many.
   */
  async eraseLoose(m: EntityManager, tenantId: string, phone: string, masked: string): Promise<number> {
    const [rows] = (await m.query(
      `UPDATE messages SET content = '{"erased": true}'::jsonb, phone = $3
        WHERE tenant_id = $1 AND phone = $2 AND conversation_id IS NULL AND status <> 'queued' RETURNING id`,
      [tenantId, phone, masked],
    )) as [Array<{ id: string }>, number];
    const ids = rows.map((r) => r.id);
    const media: Array<{ id: string }> = ids.length ? await m.query(`SELECT id FROM media_files WHERE message_id = ANY($1)`, [ids]) : [];
    await this.files.remove(
      m,
      media.map((f) => f.id),
    );
    return ids.length;
  }

  /** Files a recorded message under the process it belongs to (held back with the transaction's other writes). */
  linkToProcess(manager: EntityManager, messageId: string, processId: string): Promise<void> {
    return WriteBehind.update(manager, Message, messageId, { conversationId: processId });
  }

  async recordInboundMany(manager: EntityManager, items: Array<{ line: InboundLine; ev: InboundMessageEvent }>): Promise<RecordedInbound[]> {
    if (items.length === 0) return [];
    const now = this.clock.now();
    const rows = items.map(({ line, ev }) =>
      manager.create(Message, {
        id: newId('MSG'),
        tenantId: line.tenantId,
        lineId: line.id,
        phone: userPhone(ev.from),
        direction: 'inbound',
        type: ev.type,
        content: {
          text: ev.text ?? null,
          reply_id: ev.replyId ?? null,
          reply_title: ev.replyTitle ?? null,
          media: ev.media ?? null,
          location: ev.location ?? null,
          context_wamid: ev.contextWamid ?? null,
          profile_name: ev.profileName ?? null,
          provider_type: ev.providerType ?? null,
          ...(ev.truncated ? { truncated: true } : {}),
          sent_at: ev.timestamp.toISOString(),
        },
        providerMessageId: ev.wamid,
        status: 'received',
        conversationId: null,
        attempts: 0,
        nextAttemptAt: null,
        createdAt: now,
        ...NO_OUTCOME,
      }),
    );
    const inserted = await queryReturning<{ id: string }>(
      manager,
      `INSERT INTO messages (id, tenant_id, line_id, phone, direction, type, content, provider_message_id, status, created_at)
       SELECT r.id, r.tenant_id, r.line_id, r.phone, 'inbound', r.type, r.content, r.wamid, 'received', $7
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $8::text[])
           WITH ORDINALITY AS r(id, tenant_id, line_id, phone, type, content, wamid, n)
        ORDER BY r.n
       ON CONFLICT (line_id, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
       RETURNING id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.lineId),
        rows.map((r) => r.phone),
        rows.map((r) => r.type),
        rows.map((r) => JSON.stringify(r.content)),
        now,
        rows.map((r) => r.providerMessageId),
      ],
    );
    const insertedIds = new Set(inserted.map((r) => r.id));
    // A repeated wamid (also one repeated within this call) answers with the first record.
    const firsts = await this.byProviderId(
      manager,
      rows.filter((r) => !insertedIds.has(r.id)),
    );
    const media: MediaFile[] = [];
    const results = rows.map((row, i): RecordedInbound => {
      if (!insertedIds.has(row.id)) return { message: firsts.get(providerKey(row.lineId, row.providerMessageId!))!, duplicate: true, mediaFileId: null };
      const ev = items[i].ev;
      if (!ev.media?.id || !(ev.type === 'image' || ev.type === 'document' || ev.type === 'video' || ev.type === 'audio')) {
        return { message: row, duplicate: false, mediaFileId: null };
      }
      const file = manager.create(MediaFile, {
        id: newId('MED'),
        tenantId: row.tenantId,
        messageId: row.id,
        lineId: row.lineId,
        providerMediaId: ev.media.id,
        status: 'pending',
        mimeType: ev.media.mimeType ?? null,
        filename: ev.media.filename ?? null,
        attempts: 0,
        createdAt: now,
      });
      media.push(file);
      return { message: row, duplicate: false, mediaFileId: file.id };
    });
    // Each file's download job commits with it; both go out as one statement each for the whole batch.
    await WriteBehind.insert(manager, MediaFile, media);
    await this.downloader.enqueue(manager, media);
    return results;
  }

  /** The recorded messages with these (line, wamid) pairs, by providerKey. */
  private async byProviderId(manager: EntityManager, rows: Array<{ lineId: string; providerMessageId: string | null }>): Promise<Map<string, Message>> {
    if (rows.length === 0) return new Map();
    // Both IN lists probe the (line_id, provider_message_id) index; pairs across lines are filtered out by the key.
    const found = await manager.findBy(Message, {
      lineId: In([...new Set(rows.map((r) => r.lineId))]),
      providerMessageId: In([...new Set(rows.map((r) => r.providerMessageId!))]),
    });
    return new Map(found.map((m) => [providerKey(m.lineId, m.providerMessageId!), m]));
  }

  /**
   * Applies a delivery status monotonically (sent < delivered < read; failed is terminal), whatever order the
   * webhooks arrive in; each status keeps its own timestamp. Only a message sent from `lineId`, the line the status
   * came for, is touched: a wamid means something only on its line. Returns null when that line has no message with
   * that wamid (yet); `phone` is the message's user; `changed` when the message's status moved; `message()` reads the
   * whole row (only when needed, as for a hook).
   */
  async applyStatus(
    manager: EntityManager,
    lineId: string,
    ev: StatusUpdateEvent,
  ): Promise<{ id: string; tenantId: string; phone: string; conversationId: string | null; changed: boolean; message(): Promise<Message> } | null> {
    const rows = await queryReturning<{ id: string; tenant_id: string; phone: string; conversation_id: string | null; changed: boolean }>(
      manager,
      `WITH old AS (SELECT id, status FROM messages WHERE line_id = $6 AND provider_message_id = $1 AND direction = 'outbound' FOR UPDATE)
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
       RETURNING m.id, m.tenant_id, m.phone, m.conversation_id, m.status IS DISTINCT FROM old.status AS changed`,
      [ev.wamid, ev.status, ev.timestamp, ev.error?.code ?? null, ev.error ? [ev.error.title, ev.error.details].filter(Boolean).join(': ') : null, lineId],
    );
    if (rows.length === 0) return null;
    const [{ id, tenant_id: tenantId, phone, conversation_id: conversationId, changed }] = rows;
    return { id, tenantId, phone, conversationId, changed, message: () => manager.findOneByOrFail(Message, { id }) };
  }

  /** The newest prompt with reply options (buttons, list or template) sent to `phone` on the line, or null. */
  lastPrompt(lineId: string, phone: string): Promise<Message | null> {
    return this.messages
      .createQueryBuilder('m')
      .where(`m.line_id = :lineId AND m.phone = :phone AND m.direction = 'outbound' AND m.type IN ('buttons', 'list', 'template')`, { lineId, phone })
      .orderBy('m.id', 'DESC')
      .getOne();
  }

  /**
   * Retention: deletes the bodies (content becomes `{}`, `purged_at` set) and media of up to `limit` messages of the
   * given processes (their `conversation_id`), in one statement; messages still queued are left. Rows another
   * instance is purging are skipped. Returns how many messages were purged (fewer than `limit`: none are left).
   */
  async purgeBodiesOf(processIds: string[], limit: number): Promise<{ messages: number; media: number }> {
    const [row] = (await this.messages.query(
      `WITH m AS (
         SELECT id FROM messages WHERE conversation_id = ANY($1) AND conversation_id IS NOT NULL AND purged_at IS NULL AND status <> 'queued'
          LIMIT $2 FOR UPDATE SKIP LOCKED),
       u AS (UPDATE messages SET content = '{}'::jsonb, purged_at = $3 FROM m WHERE messages.id = m.id RETURNING messages.id),
       d AS (DELETE FROM media_files f USING u WHERE f.message_id = u.id RETURNING f.id)
       SELECT (SELECT count(*) FROM u)::int AS messages, (SELECT count(*) FROM d)::int AS media`,
      [processIds, limit, this.clock.now()],
    )) as Array<{ messages: number; media: number }>;
    return row!;
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

  /** The files of these messages: what users sent, and the stored files that outbound `file` messages send. */
  mediaOf(messages: Array<Pick<Message, 'id' | 'direction' | 'content'>>): Promise<MediaFile[]> {
    const messageIds = messages.filter((m) => m.direction === 'inbound').map((m) => m.id);
    const fileIds = messages.map(sentFileId).filter((id): id is string => id !== null);
    if (messageIds.length === 0 && fileIds.length === 0) return Promise.resolve([]);
    return this.media.createQueryBuilder('f').where('f.message_id = ANY(:messageIds) OR f.id = ANY(:fileIds)', { messageIds, fileIds }).getMany();
  }
}
