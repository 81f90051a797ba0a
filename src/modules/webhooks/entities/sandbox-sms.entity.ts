import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An SMS the sandbox SMS provider "sent": the sandbox SMS inbox (`GET /v1/sandbox/sms`). */
@Entity('sandbox_sms')
export class SandboxSms {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  /** E.164. */
  @Column('text') phone: string;
  @Column('text') body: string;
  @Column('text') providerMessageId: string;
  @Column('timestamptz') createdAt: Date;
}
