import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OptionAction } from './outbound.entity.js';

/** One send of an outbound to a user. With a flow_id it is a flow invitation, answered by a quick-reply tap. */
@Entity('outbound_sends')
export class OutboundSend {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') outboundId: string;
  @Column('text') lineId: string;
  /** E.164. */
  @Column('text') phone: string;
  @Column('text') messageId: string;
  @Column('text', { nullable: true }) flowId: string | null;
  @Column('jsonb') params: string[];
  @Column('text', { nullable: true }) apiKeyId: string | null;
  /** The user's first tap on the invitation's buttons. */
  @Column('text', { nullable: true }) response: OptionAction | null;
  @Column('timestamptz', { nullable: true }) respondedAt: Date | null;
  /** The contract a flow invitation carries (a document of the tenant's), for the flow's `document` step. */
  @Column('text', { nullable: true }) documentId: string | null;
  /** The signer's name as the business knows it, for the signature page. */
  @Column('text', { nullable: true }) signerName: string | null;
  @Column('timestamptz') createdAt: Date;
}
