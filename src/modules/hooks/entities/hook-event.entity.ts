import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The outbox: one row per event that at least one hook subscribed to, written in the caller's transaction. */
@Entity('hook_events')
export class HookEvent {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') type: string;
  @Column('text', { nullable: true }) flowId: string | null;
  @Column('jsonb') data: object;
  @Column('timestamptz') createdAt: Date;
}
