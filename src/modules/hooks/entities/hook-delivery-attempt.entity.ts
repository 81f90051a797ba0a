import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One HTTP try of a delivery, kept for the delivery log. */
@Entity('hook_delivery_attempts')
export class HookDeliveryAttempt {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('text') deliveryId: string;
  @Column('timestamptz') attemptedAt: Date;
  @Column('int', { nullable: true }) httpStatus: number | null;
  @Column('int') latencyMs: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { nullable: true }) responseExcerpt: string | null;
}
