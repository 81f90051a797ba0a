import { Column, Entity, PrimaryColumn } from 'typeorm';

export const MESSAGE_STATUSES = ['received', 'queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type MessageDirection = 'inbound' | 'outbound';

/** Every message in and out of a line. Outbound rows in status `queued` are the send queue. */
@Entity('messages')
export class Message {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') lineId: string;
  /** The user's number, E.164. */
  @Column('text') phone: string;
  @Column('text') direction: MessageDirection;
  @Column('text') type: string;
  @Column('jsonb') content: object;
  @Column('text', { nullable: true }) providerMessageId: string | null;
  @Column('text') status: MessageStatus;
  @Column('text', { nullable: true }) conversationId: string | null;
  @Column('int', { default: 0 }) attempts: number;
  @Column('timestamptz', { nullable: true }) nextAttemptAt: Date | null;
  @Column('text', { nullable: true }) errorCode: string | null;
  @Column('text', { nullable: true }) errorTitle: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz', { nullable: true }) sentAt: Date | null;
  @Column('timestamptz', { nullable: true }) deliveredAt: Date | null;
  @Column('timestamptz', { nullable: true }) readAt: Date | null;
  @Column('timestamptz', { nullable: true }) failedAt: Date | null;
}
