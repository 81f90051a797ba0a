import { Column, Entity, PrimaryColumn } from 'typeorm';

export type SigningState = 'none' | 'signing' | 'signed' | 'failed';

/** The contract of a process: the document a `document` step sent, its confirmation, and the signed copy made of it. */
@Entity('contracts')
export class Contract {
  @PrimaryColumn('text') processId: string;
  /** The `document` step that sent it. */
  @PrimaryColumn('text') stepId: string;
  @Column('text') tenantId: string;
  @Column('text') originalDocumentId: string;
  @Column('text') originalSha256: string;
  /** As the invitation gave it (`signer_name`); else the signature step finds one. */
  @Column('text', { nullable: true }) signerName: string | null;
  /** When the person confirmed they received and reviewed it. */
  @Column('timestamptz', { nullable: true }) confirmedAt: Date | null;
  @Column('text') signingState: SigningState;
  /** The last reason signing had to wait or failed (a time-stamping authority that does not answer, …). */
  @Column('text', { nullable: true }) signingError: string | null;
  /** Set once, by the first signing to finish: a process never gets two different signed copies. */
  @Column('text', { nullable: true }) signedDocumentId: string | null;
  @Column('text', { nullable: true }) signedSha256: string | null;
  /** What the signed copy's signature covers (its byte range), SHA-256: finds it again when a changed copy is checked. */
  @Column('text', { nullable: true }) signedContentSha256: string | null;
  @Column('text', { nullable: true }) signatureLevel: string | null;
  @Column('timestamptz', { nullable: true }) signedAt: Date | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
}
