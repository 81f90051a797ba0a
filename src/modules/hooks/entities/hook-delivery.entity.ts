import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DeliveryStatus } from '../hook-events.js';

/** One event to one hook, retried until it succeeds or its 3 days are over. */
@Entity('hook_deliveries')
export class HookDelivery {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') hookId: string;
  @Column('text') eventId: string;
  @Column('text') eventType: string;
  /** `sending`: claimed by a dispatcher until `next_attempt_at` (the lease); due again after it if that one died. */
  @Column('text') status: DeliveryStatus;
  @Column('int', { default: 0 }) attemptCount: number;
  @Column('timestamptz', { nullable: true }) nextAttemptAt: Date | null;
  @Column('text', { nullable: true, select: false }) leaseToken: string | null;
  @Column('timestamptz', { nullable: true }) firstAttemptAt: Date | null;
  @Column('timestamptz', { nullable: true }) lastAttemptAt: Date | null;
  @Column('timestamptz', { nullable: true }) deliveredAt: Date | null;
  @Column('text', { nullable: true }) lastError: string | null;
  @Column('timestamptz') createdAt: Date;
}
