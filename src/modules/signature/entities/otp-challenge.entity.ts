import { Column, Entity, PrimaryColumn } from 'typeorm';

export type OtpChannel = 'sms' | 'whatsapp';
export type OtpStatus = 'sending' | 'sent' | 'verified' | 'failed' | 'undeliverable';

/**
 * The one-time code of an `otp` step of a process: the current code (a resend replaces it and bumps `generation`),
 * kept only as an HMAC; `codeSealed` holds it sealed with SECRETS_KEY from its creation until the provider took it.
 */
@Entity('otp_challenges')
export class OtpChallenge {
  @PrimaryColumn('text') processId: string;
  @PrimaryColumn('text') stepId: string;
  @Column('text') tenantId: string;
  @Column('text') channel: OtpChannel;
  /** 1 for the first code, +1 for each resend. */
  @Column('int') generation: number;
  @Column('text') codeHmac: string;
  @Column('text', { nullable: true }) codeSealed: string | null;
  @Column('text') status: OtpStatus;
  @Column('timestamptz', { nullable: true }) sentAt: Date | null;
  @Column('timestamptz') expiresAt: Date;
  @Column('timestamptz', { nullable: true }) verifiedAt: Date | null;
  /** Wrong codes typed, over all the codes of the step. */
  @Column('int') attempts: number;
  @Column('int') resends: number;
  @Column('text', { nullable: true }) deliveryError: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
}
