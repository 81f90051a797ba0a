import { Column, Entity, PrimaryColumn } from 'typeorm';

export type CertificateState = 'pending' | 'ready' | 'failed' | 'purged';

/** The certificate of evidence of a finished process: made by a job, PAdES-sealed, its bytes in the file store. */
@Entity('evidence_certificates')
export class EvidenceCertificate {
  @PrimaryColumn('text') processId: string;
  @Column('text') tenantId: string;
  @Column('text') state: CertificateState;
  @Column('text', { nullable: true }) fileKey: string | null;
  @Column('text', { nullable: true }) sha256: string | null;
  /** What its seal covers (the signature's byte range), SHA-256. */
  @Column('text', { nullable: true }) contentSha256: string | null;
  @Column('int', { nullable: true }) sizeBytes: number | null;
  @Column('text', { nullable: true }) level: string | null;
  /** The last evidence event it states (the chain head then). */
  @Column('int', { nullable: true }) chainSeq: number | null;
  @Column('timestamptz', { nullable: true }) issuedAt: Date | null;
  @Column('text', { nullable: true }) error: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz') updatedAt: Date;
}
