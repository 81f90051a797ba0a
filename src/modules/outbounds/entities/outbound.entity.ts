import { Column, Entity, PrimaryColumn } from 'typeorm';

export const OUTBOUND_CATEGORIES = [
  'ACCOUNT_UPDATE',
  'PAYMENT_UPDATE',
  'PERSONAL_FINANCE_UPDATE',
  'SHIPPING_UPDATE',
  'RESERVATION_UPDATE',
  'ISSUE_RESOLUTION',
  'APPOINTMENT_UPDATE',
  'TRANSPORTATION_UPDATE',
  'TICKET_UPDATE',
  'ALERT_UPDATE',
  'AUTO_REPLY',
  'UTILITY',
  'MARKETING',
  'AUTHENTICATION',
] as const;
export type OutboundCategory = (typeof OUTBOUND_CATEGORIES)[number];
export const TEMPLATE_TYPES = ['TEXT', 'VIDEO', 'IMAGE', 'DOCUMENT', 'LOCATION'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];
export const OPTION_ACTIONS = ['continue_process', 'cancel_process'] as const;
export type OptionAction = (typeof OPTION_ACTIONS)[number];

export interface OutboundOption {
  message: string;
  action: OptionAction;
}

/** An outbound message as the client created it; its approval lives on the backing template. Never edited. */
@Entity('outbounds')
export class Outbound {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') lineId: string;
  @Column('text') templateId: string;
  @Column('boolean') isNotification: boolean;
  /** With parameters written {{n}}. */
  @Column('text') content: string;
  @Column('int') paramCount: number;
  /** As the client sent it (legacy categories included). */
  @Column('text') category: OutboundCategory;
  @Column('text') templateType: TemplateType;
  @Column('text') languageCode: string;
  @Column('text', { nullable: true }) mediaUrl: string | null;
  @Column('jsonb', { nullable: true }) options: OutboundOption[] | null;
  @Column('jsonb') exampleParams: string[];
  @Column('text', { nullable: true }) apiKeyId: string | null;
  @Column('timestamptz') createdAt: Date;
}
