import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? v : Number(v)) };

/** A signed statement of a tenant's evidence tree: its size and root at a time (see docs/evidence.md#checkpoints). */
@Entity('evidence_checkpoints')
export class EvidenceCheckpoint {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('bigint', { transformer: bigintNumber }) treeSize: number;
  /** Hex SHA-256. */
  @Column('text') rootHash: string;
  @Column('timestamptz') issuedAt: Date;
  /** Base64 of the signature over the checkpoint's canonical JSON (see checkpointStatement). */
  @Column('text') signature: string;
  @Column('text') signatureAlgorithm: string;
  /** Base64 DER of the RFC 3161 token over SHA-256(signature), with TSA_URL. */
  @Column('text', { nullable: true }) timestampToken: string | null;
  /** Base64 DER of the signing certificate it was signed under (null: made before they were kept; the current one). */
  @Column('text', { nullable: true }) signingCertificate: string | null;
}
