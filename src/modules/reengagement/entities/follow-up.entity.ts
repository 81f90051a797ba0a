import { Column, Entity, PrimaryColumn } from 'typeorm';

export const FOLLOW_UP_STATUSES = ['scheduled', 'sent', 'skipped', 'cancelled', 'answered'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];
export type FollowUpAnswer = 'yes' | 'no';
/** Why a follow-up was never sent: its send time fell after WhatsApp's 24-hour window closed. */
export type FollowUpSkipReason = 'outside_24h_window';
/** `answered`: the user answered the question (or wrote anything) first; `cancelled`: the process ended. */
export type FollowUpCancelReason = 'answered' | 'cancelled';

/** A re-engagement message for one unanswered question of a process. Rows in status `scheduled` are the cron's queue. */
@Entity('follow_ups')
export class FollowUp {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') processId: string;
  @Column('text') lineId: string;
  /** The user's number, E.164. */
  @Column('text') phone: string;
  /** The question left unanswered. */
  @Column('text') stepId: string;
  @Column('timestamptz') askedAt: Date;
  /** When it goes out: asked_at + delay, moved into the business window. */
  @Column('timestamptz') dueAt: Date;
  /** End of WhatsApp's 24-hour customer-service window (last user message + 24 h). */
  @Column('timestamptz') windowClosesAt: Date;
  @Column('text') message: string;
  @Column('text') language: string;
  @Column('text') status: FollowUpStatus;
  @Column('text', { nullable: true }) skipReason: FollowUpSkipReason | null;
  @Column('text', { nullable: true }) cancelReason: FollowUpCancelReason | null;
  @Column('timestamptz', { nullable: true }) sentAt: Date | null;
  /** The queued message (messages.id). */
  @Column('text', { nullable: true }) messageId: string | null;
  @Column('text', { nullable: true }) answer: FollowUpAnswer | null;
  @Column('timestamptz', { nullable: true }) answeredAt: Date | null;
  @Column('timestamptz', { nullable: true }) cancelledAt: Date | null;
  @Column('timestamptz') createdAt: Date;
}
