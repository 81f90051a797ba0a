import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A file a user sent, downloaded at once (provider links expire in minutes) and kept with its SHA-256. */
@Entity('media_files')
export class MediaFile {
  @PrimaryColumn('text') id: string;
  @Column('text') tenantId: string;
  @Column('text') messageId: string;
  @Column('text') lineId: string;
  @Column('text') providerMediaId: string;
  @Column('text') status: 'pending' | 'stored' | 'failed';
  @Column('text', { nullable: true }) mimeType: string | null;
  @Column('int', { nullable: true }) sizeBytes: number | null;
  @Column('text', { nullable: true }) sha256: string | null;
  @Column('bytea', { nullable: true, select: false }) data: Buffer | null;
  @Column('int', { default: 0 }) attempts: number;
  @Column('timestamptz', { nullable: true }) nextAttemptAt: Date | null;
  @Column('text', { nullable: true }) error: string | null;
  @Column('timestamptz') createdAt: Date;
  @Column('timestamptz', { nullable: true }) storedAt: Date | null;
}
