import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../../../common/http/pagination.js';
import { Trim } from '../../../common/http/transforms.js';
import type { MediaFile } from '../entities/media-file.entity.js';
import { contentUrl } from '../files.service.js';
import { MESSAGE_STATUSES, type Message, type MessageStatus } from '../entities/message.entity.js';
import { maskAuthCode } from '../../../whatsapp/auth-code.js';

export class ListMessagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only messages of this line (its id)', example: 'WAN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' })
  @IsOptional()
  @IsString()
  line_id?: string;

  @ApiPropertyOptional({ description: 'Only messages with this user (E.164)', example: '+573001234567' })
  @IsOptional()
  @Trim()
  @IsString()
  phone?: string;

  @ApiPropertyOptional({ enum: MESSAGE_STATUSES })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES as unknown as string[])
  status?: MessageStatus;

  @ApiPropertyOptional({ enum: ['inbound', 'outbound'] })
  @IsOptional()
  @IsIn(['inbound', 'outbound'])
  direction?: 'inbound' | 'outbound';
}

export class MediaFileDto {
  @ApiProperty({ example: 'MED01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ enum: ['pending', 'stored', 'failed'] }) status: string;
  @ApiProperty({ nullable: true, type: String, example: 'image/jpeg' }) mime_type: string | null;
  @ApiProperty({ nullable: true, type: Number }) size_bytes: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 (hex) of the stored bytes' }) sha256: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'cedula.pdf', description: 'The file name, when the sender gave one' }) filename: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '/v1/files/MED01JD3V6Q4T1Z0K6M3P9X2Y5B7C/content',
    description: 'Where to download it (relative to this API), once stored',
  })
  content_url: string | null;

  static from(f: MediaFile): MediaFileDto {
    return {
      id: f.id,
      status: f.status,
      mime_type: f.mimeType,
      size_bytes: f.sizeBytes,
      sha256: f.sha256,
      filename: f.filename,
      content_url: f.status === 'stored' ? contentUrl(f.id) : null,
    };
  }
}

export class MessageErrorDto {
  @ApiProperty({ example: 'OUTSIDE_WINDOW', description: 'Normalised error code (or the provider code from a status webhook)' })
  code: string;
  @ApiProperty({ example: 'Re-engagement message' }) title: string | null;
}

export class MessageDto {
  @ApiProperty({ example: 'MSG01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) id: string;
  @ApiProperty({ example: 'WAN01JD3V6Q4T1Z0K6M3P9X2Y5B7C' }) line_id: string;
  @ApiProperty({ example: '+573001234567', description: "The user's number" }) phone: string;
  @ApiProperty({ enum: ['inbound', 'outbound'] }) direction: string;
  @ApiProperty({
    example: 'text',
    description: 'text, buttons, list, media, file (a stored file), location, template (outbound); text, button, interactive, image, document… (inbound)',
  })
  type: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { kind: 'text', body: 'Hola' },
    description: "What was sent or received. An authentication template's one-time code is never shown: its `authCode` reads `******`.",
  })
  content: object;
  @ApiProperty({ enum: MESSAGE_STATUSES, description: 'queued → sent → delivered → read, or failed; inbound messages are received' })
  status: string;
  @ApiProperty({ nullable: true, type: String, example: 'wamid.HBgLNTczMDAxMjM0NTY3FQIAERgSQ0Y2' }) provider_message_id: string | null;
  @ApiProperty({ nullable: true, type: MessageErrorDto }) error: MessageErrorDto | null;
  @ApiProperty({ nullable: true, type: String }) conversation_id: string | null;
  @ApiProperty() attempts: number;
  @ApiProperty() created_at: string;
  @ApiProperty({ nullable: true, type: String }) sent_at: string | null;
  @ApiProperty({ nullable: true, type: String }) delivered_at: string | null;
  @ApiProperty({ nullable: true, type: String }) read_at: string | null;
  @ApiProperty({ nullable: true, type: String }) failed_at: string | null;
  @ApiProperty({ type: [MediaFileDto], description: 'The file a user sent, or the stored file a `file` message sends' }) media: MediaFileDto[];

  static from(m: Message, media: MediaFile[] = []): MessageDto {
    const iso = (d: Date | null) => d?.toISOString() ?? null;
    return {
      id: m.id,
      line_id: m.lineId,
      phone: m.phone,
      direction: m.direction,
      type: m.type,
      // A one-time code is masked: lists, single reads and message.status hooks all pass through here.
      content: maskAuthCode(m.content),
      status: m.status,
      provider_message_id: m.providerMessageId,
      error: m.errorCode ? { code: m.errorCode, title: m.errorTitle } : null,
      conversation_id: m.conversationId,
      attempts: m.attempts,
      created_at: m.createdAt.toISOString(),
      sent_at: iso(m.sentAt),
      delivered_at: iso(m.deliveredAt),
      read_at: iso(m.readAt),
      failed_at: iso(m.failedAt),
      media: media.filter((f) => f.messageId === m.id || f.id === sentFileId(m)).map(MediaFileDto.from),
    };
  }
}

/** The stored file an outbound `file` message sends, if it is one. */
export function sentFileId(m: Pick<Message, 'direction' | 'content'>): string | null {
  const c = m.content as { kind?: string; fileId?: string };
  return m.direction === 'outbound' && c?.kind === 'file' && typeof c.fileId === 'string' ? c.fileId : null;
}
