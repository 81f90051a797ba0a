import { Column, DeleteDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A trigger: users who send `inboundMessage` to the line start the flow. */
@Entity('inbounds')
export class Inbound {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') lineId: string;
  @Column('text') flowId: string;
  @Column('text') inboundMessage: string;
  /** The message as matched: no case, accents, surrounding or repeated spaces. */
  @Column('text') matchKey: string;
  @Column('timestamptz') createdAt: Date;
  @DeleteDateColumn({ type: 'timestamptz' }) deletedAt: Date | null;
}
